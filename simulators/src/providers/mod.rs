//! Data providers ("API données"): each is one party, one module, one HTTP server, shaped like the
//! real provider's own API (not the hubs' format), with its own error format.
//!
//! | party | real system | serves |
//! |---|---|---|
//! | [`insee`] | INSEE API Sirene 3.11 | legal units, establishments, diffusion status |
//! | [`infogreffe`] | Infogreffe RCS | extrait Kbis (JSON and PDF), officers |
//! | [`urssaf`] | URSSAF attestations | attestation de vigilance (JSON and PDF) |
//! | [`dgfip`] | DGFiP API Impôt particulier and professional APIs | income-tax situation, attestation fiscale, turnover |
//! | [`social`] (`cnaf`, `msa`) | CNAF and MSA via API-SECU | quotient familial, EAJE parameters; MSA contributions compliance |

pub mod dgfip;
pub mod infogreffe;
pub mod insee;
pub mod social;
pub mod urssaf;

use std::sync::Arc;

use crate::http::PartyApp;
use crate::population::Population;

/// Every provider of the platform, ready to serve.
pub fn all(
    population: &Arc<Population>,
    dgfip_clients: &[dgfip::OAuthClient],
    dgfip_fc: Option<dgfip::FranceConnectLink>,
) -> Vec<PartyApp> {
    vec![
        insee::app(population.clone()),
        infogreffe::app(population.clone()),
        urssaf::app(population.clone()),
        dgfip::app(population.clone(), dgfip_clients.to_vec(), dgfip_fc),
        social::app(population.clone(), crate::population::Regime::Cnaf),
        social::app(population.clone(), crate::population::Regime::Msa),
    ]
}

/// Query parameters as sent, in order, repeated keys kept (`prenoms=A&prenoms=B`).
pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
        .unwrap_or_default()
}

/// The first value of a query parameter.
pub(crate) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A date as `YYYY-MM-DD`.
pub(crate) fn ymd(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The company OpenAPI examples use: the `batiments-dupont` persona, else the first company.
pub(crate) fn example_company(p: &Population) -> &crate::population::Company {
    p.company_persona("batiments-dupont")
        .unwrap_or(&p.companies[0])
}

/// The citizen OpenAPI examples use: the `famille-eaje-aeeh` persona, else the first allocataire.
pub(crate) fn example_citizen(p: &Population) -> &crate::population::Citizen {
    p.citizen_persona("famille-eaje-aeeh")
        .or_else(|| {
            p.citizens.iter().find(|c| {
                p.household_of(c).social.is_some() && p.household_of(c).declarants.contains(&c.id)
            })
        })
        .unwrap_or(&p.citizens[0])
}
