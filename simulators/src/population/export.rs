//! The population as flat rows, for the tools users drive the platform with (k6, Gatling, a
//! vendor's tests): `simulators population export --kind citizens|households|companies
//! [--where field=value …] --format csv|jsonl`, the same people and companies the simulated
//! parties serve for the same seed.
//!
//! ```
//! use simulators::population::{Population, PopulationConfig, export::{Kind, Selection, rows}};
//! let p = Population::generate(&PopulationConfig { citizens: 50, companies: 10, ..PopulationConfig::default() }, None);
//! let up_to_date = Selection::parse(&["urssaf=up_to_date".into()], Kind::Companies).unwrap();
//! let rows = rows(&p, Kind::Companies, &up_to_date);
//! assert!(rows.iter().all(|r| r.get("urssaf") == Some("up_to_date")));
//! ```

use serde::Serialize;

use super::{Citizen, Company, Household, Population};
use crate::party::ids;

/// What is exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Every person, adult or child.
    Citizens,
    /// Tax households, which are the families the CAF and the MSA know.
    Households,
    /// Companies (unités légales) with their head office.
    Companies,
}

/// How rows are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// RFC 4180, a header line first.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// One exported record: its fields in a fixed order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row(Vec<(&'static str, String)>);

impl Row {
    /// Its fields and values, in order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// A field's value.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| *k == field)
            .map(|(_, v)| v.as_str())
    }
}

/// The fields of a kind, in their order.
pub fn fields(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Citizens => &[
            "persona",
            // What the identity providers' login forms take (adults only).
            "login",
            "nir",
            "numero_fiscal",
            "given_names",
            "family_name",
            "usage_name",
            "gender",
            "birthdate",
            "birthplace",
            "birthcountry",
            "email",
            "household",
            // The family file (cnaf, msa) the CAF or the MSA finds this person by: declarants only.
            "regime",
        ],
        Kind::Households => &[
            "household",
            "situation",
            "declarants",
            "children",
            "aeeh_children",
            "regime",
            "numero_allocataire",
            "commune_cog",
            "postal_code",
            "city",
            "last_income_year",
            "taxable_income",
        ],
        Kind::Companies => &[
            "persona",
            "siren",
            "siret",
            "name",
            "legal_form",
            "naf",
            "diffusion",
            "created",
            "ceased",
            // The standing each provider gives, under the provider's id.
            ids::URSSAF,
            "fiscal",
            ids::MSA,
            "establishments",
        ],
    }
}

/// `--where` conditions, all of which a row must meet: `field=value` or `field!=value`.
#[derive(Clone, Debug, Default)]
pub struct Selection(Vec<(&'static str, bool, String)>);

impl Selection {
    /// Parses conditions on the fields of `kind`; an unknown field is an error naming them.
    pub fn parse(conditions: &[String], kind: Kind) -> Result<Selection, String> {
        let mut out = Vec::new();
        for c in conditions {
            let (field, equal, value) = match (c.split_once("!="), c.split_once('=')) {
                (Some((f, v)), _) => (f, false, v),
                (None, Some((f, v))) => (f, true, v),
                _ => return Err(format!("--where {c:?}: write field=value or field!=value")),
            };
            let known = fields(kind);
            let field = known.iter().find(|k| **k == field.trim()).ok_or_else(|| {
                format!(
                    "--where {c:?}: {} have no field {field:?}; their fields are {}",
                    format!("{kind:?}").to_lowercase(),
                    known.join(", ")
                )
            })?;
            out.push((*field, equal, value.trim().to_string()));
        }
        Ok(Selection(out))
    }

    fn keeps(&self, row: &Row) -> bool {
        self.0
            .iter()
            .all(|(f, equal, v)| (row.get(f) == Some(v.as_str())) == *equal)
    }
}

/// Every row of `kind` that `selection` keeps, in the population's order.
pub fn rows(p: &Population, kind: Kind, selection: &Selection) -> Vec<Row> {
    let all: Vec<Row> = match kind {
        Kind::Citizens => p.citizens.iter().map(|c| citizen(p, c)).collect(),
        Kind::Households => p.households.iter().map(|h| household(p, h)).collect(),
        Kind::Companies => p.companies.iter().map(company).collect(),
    };
    all.into_iter().filter(|r| selection.keeps(r)).collect()
}

/// The rows written in `format`.
pub fn write(kind: Kind, rows: &[Row], format: Format) -> Result<Vec<u8>, String> {
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(fields(kind)).map_err(|e| e.to_string())?;
            for r in rows {
                w.write_record(r.0.iter().map(|(_, v)| v))
                    .map_err(|e| e.to_string())?;
            }
            w.into_inner().map_err(|e| e.to_string())
        }
        Format::Jsonl => {
            let mut out = Vec::new();
            for r in rows {
                let object: serde_json::Map<String, serde_json::Value> =
                    r.0.iter()
                        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone())))
                        .collect();
                out.extend(serde_json::Value::Object(object).to_string().into_bytes());
                out.push(b'\n');
            }
            Ok(out)
        }
    }
}

/// A value's serialized word (`up_to_date`, `female`): the same the parties answer with.
fn word<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn citizen(p: &Population, c: &Citizen) -> Row {
    // Only adults with a tax number have an account (`identity::account`).
    let login = match c.numero_fiscal {
        Some(_) => c.login(),
        None => String::new(),
    };
    let regime = p
        .households
        .get(c.household as usize)
        .filter(|h| h.declarants.contains(&c.id))
        .and_then(|h| h.social.as_ref())
        .map(|s| word(&s.regime).to_lowercase())
        .unwrap_or_default();
    Row(vec![
        ("persona", c.persona.clone().unwrap_or_default()),
        ("login", login),
        ("nir", c.nir.clone()),
        ("numero_fiscal", c.numero_fiscal.clone().unwrap_or_default()),
        ("given_names", c.given_names.clone()),
        ("family_name", c.family_name.clone()),
        ("usage_name", c.usage_name.clone().unwrap_or_default()),
        ("gender", word(&c.gender)),
        ("birthdate", c.birth_date.raw()),
        ("birthplace", c.birthplace.clone()),
        ("birthcountry", c.birthcountry.clone()),
        ("email", c.email.clone()),
        ("household", c.household.to_string()),
        ("regime", regime),
    ])
}

fn household(p: &Population, h: &Household) -> Row {
    let nirs = |ids: &[super::CitizenId]| {
        ids.iter()
            .filter_map(|id| p.citizens.get(*id as usize))
            .map(|c| c.nir.clone())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let year = h.last_income_year();
    Row(vec![
        ("household", h.id.to_string()),
        ("situation", word(&h.situation).to_lowercase()),
        ("declarants", nirs(&h.declarants)),
        ("children", h.children.len().to_string()),
        ("aeeh_children", h.aeeh_children.len().to_string()),
        (
            "regime",
            h.social
                .as_ref()
                .map(|s| word(&s.regime).to_lowercase())
                .unwrap_or_default(),
        ),
        (
            "numero_allocataire",
            h.social
                .as_ref()
                .map(|s| s.numero_allocataire.clone())
                .unwrap_or_default(),
        ),
        ("commune_cog", h.address.commune_cog.clone()),
        ("postal_code", h.address.postal_code.clone()),
        ("city", h.address.city.clone()),
        ("last_income_year", year.to_string()),
        (
            "taxable_income",
            h.taxable_income_of(year)
                .map(|i| i.to_string())
                .unwrap_or_default(),
        ),
    ])
}

fn company(c: &Company) -> Row {
    let head = c.establishments.iter().find(|e| e.head_office);
    Row(vec![
        ("persona", c.persona.clone().unwrap_or_default()),
        ("siren", c.siren.clone()),
        ("siret", head.map(|e| e.siret.clone()).unwrap_or_default()),
        ("name", c.name.clone()),
        ("legal_form", c.legal_form.clone()),
        ("naf", c.naf.clone()),
        ("diffusion", word(&c.diffusion)),
        ("created", c.created.to_string()),
        (
            "ceased",
            c.ceased.map(|d| d.to_string()).unwrap_or_default(),
        ),
        (ids::URSSAF, word(&c.urssaf)),
        ("fiscal", word(&c.fiscal)),
        (ids::MSA, c.msa.as_ref().map(word).unwrap_or_default()),
        ("establishments", c.establishments.len().to_string()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::PopulationConfig;

    fn population() -> Population {
        let config = PopulationConfig {
            citizens: 200,
            companies: 60,
            ..PopulationConfig::default()
        };
        Population::generate(&config, None)
    }

    #[test]
    fn every_kind_exports_its_fields_in_both_formats() {
        let p = population();
        for kind in [Kind::Citizens, Kind::Households, Kind::Companies] {
            let rows = rows(&p, kind, &Selection::default());
            assert!(!rows.is_empty());
            assert!(rows.iter().all(|r| r.0.len() == fields(kind).len()));
            let csv = String::from_utf8(write(kind, &rows, Format::Csv).unwrap()).unwrap();
            let mut reader = csv::Reader::from_reader(csv.as_bytes());
            assert_eq!(reader.headers().unwrap().len(), fields(kind).len());
            assert_eq!(reader.records().count(), rows.len());
            let jsonl = String::from_utf8(write(kind, &rows, Format::Jsonl).unwrap()).unwrap();
            assert_eq!(jsonl.lines().count(), rows.len());
            let first: serde_json::Value =
                serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
            assert_eq!(first.as_object().unwrap().len(), fields(kind).len());
        }
    }

    #[test]
    fn where_keeps_the_rows_that_meet_every_condition() {
        let p = population();
        let all = rows(&p, Kind::Companies, &Selection::default());
        let up = Selection::parse(&["urssaf=up_to_date".into()], Kind::Companies).unwrap();
        let not_up = Selection::parse(&["urssaf!=up_to_date".into()], Kind::Companies).unwrap();
        let (a, b) = (
            rows(&p, Kind::Companies, &up),
            rows(&p, Kind::Companies, &not_up),
        );
        assert!(!a.is_empty() && !b.is_empty());
        assert_eq!(a.len() + b.len(), all.len());
        assert!(a.iter().all(|r| r.get("urssaf") == Some("up_to_date")));
        let both = Selection::parse(
            &["urssaf=up_to_date".into(), "diffusion=diffusible".into()],
            Kind::Companies,
        )
        .unwrap();
        assert!(rows(&p, Kind::Companies, &both).len() <= a.len());
        let e = Selection::parse(&["colour=blue".into()], Kind::Companies).unwrap_err();
        assert!(e.contains("siren"), "{e}");
        assert!(Selection::parse(&["urssaf".into()], Kind::Companies).is_err());
        let msa = Selection::parse(&["regime=cnaf".into()], Kind::Households).unwrap();
        assert!(!rows(&p, Kind::Households, &msa).is_empty());
    }

    #[test]
    fn citizens_carry_the_login_identity_providers_take() {
        let p = population();
        let parents =
            Selection::parse(&["regime=cnaf".into(), "login!=".into()], Kind::Citizens).unwrap();
        let rows = rows(&p, Kind::Citizens, &parents);
        assert!(!rows.is_empty());
        for r in &rows {
            let login = r.get("login").unwrap();
            let account = crate::identity::account(&p, login).expect(login);
            assert_eq!(
                Some(account.identity.family_name.as_str()),
                r.get("family_name")
            );
        }
    }

    #[test]
    fn the_same_seed_exports_the_same_people() {
        let (a, b) = (population(), population());
        let s = Selection::default();
        assert_eq!(rows(&a, Kind::Citizens, &s), rows(&b, Kind::Citizens, &s));
    }
}
