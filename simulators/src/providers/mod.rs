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

/// The code Infogreffe's and the DGFiP gateway's errors give what the plumbing refuses.
pub(crate) fn refusal_code(status: axum::http::StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "REQUETE_INVALIDE",
        404 => "RESSOURCE_INCONNUE",
        405 => "METHODE_NON_AUTORISEE",
        413 => "REQUETE_TROP_VOLUMINEUSE",
        431 => "ENTETES_TROP_VOLUMINEUX",
        _ => "ERREUR_TECHNIQUE",
    }
}

/// A date as `YYYY-MM-DD`.
pub(crate) fn ymd(d: chrono::NaiveDate) -> String {
    // Display writes `%Y-%m-%d` for years 0 to 9999 without parsing a format string, which
    // shows in a provider route's profile.
    d.to_string()
}
