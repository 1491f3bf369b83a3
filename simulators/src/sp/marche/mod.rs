//! The public-tender marketplace (Marché Public Simplifié, `sp-marche`): a buyer publishes a
//! tender; a company applies with its SIRET only ("dites-le nous une fois"). The marketplace
//! fetches everything else through API Entreprise, with the tracing parameters the platform
//! requires (context "Marchés publics", object = the tender's reference, recipient = the
//! buyer's SIRET): identity and head office (INSEE), RCS extract and officers (Infogreffe),
//! attestation de vigilance (URSSAF), attestation fiscale (DGFiP) and, for agricultural
//! employers, MSA compliance. It pre-fills the application, attaches the certificates, and
//! rejects or flags it when a certificate is refused, the company has ceased or its data is not
//! diffusible. When a provider is down the application is kept, marked incomplete, and can be
//! refreshed later.
//!
//! The applicant signs in with FranceConnect ([`super::oidc`]); the marketplace checks their
//! name against the company's officers.

mod api;
mod applications;
mod assembly;
mod openapi;
mod pages;
mod pieces;

use api::*;
use applications::*;
use assembly::*;
use openapi::*;
use pages::*;
use pieces::*;

use crate::http::trace::Propagate as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::SpError;
use super::store::Store;
use super::{FranceConnectClient, Sessions, SignedIn, error_page, oidc, page, problem, see_other};
use crate::defects::Defect;
use crate::http::{PartyApp, PartyCore, PartyId, Role, json_response, with_subject};
use crate::population::{Population, ids};

/// `[sp-marche]` in `scenarios/service_providers.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MarcheConfig {
    pub(crate) title: String,
    pub(crate) france_connect: FranceConnectClient,
    /// The marketplace's API Entreprise habilitation.
    pub(crate) api_entreprise: super::HubToken,
    /// The `context` tracing parameter.
    #[serde(default = "default_context")]
    pub(crate) context: String,
    /// NAF divisions of agricultural employers, whose MSA compliance is fetched.
    #[serde(default = "default_msa_divisions")]
    pub(crate) msa_naf_divisions: Vec<String>,
    /// Where applications are kept (relative to the configuration file); in memory if absent.
    #[serde(default)]
    pub(crate) store: Option<PathBuf>,
    #[serde(default)]
    pub(crate) tenders: Vec<TenderConfig>,
}

fn default_context() -> String {
    "Marchés publics".into()
}
fn default_msa_divisions() -> Vec<String> {
    vec!["01".into(), "02".into(), "03".into()]
}

/// A tender published at start.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TenderConfig {
    pub(crate) reference: String,
    pub(crate) title: String,
    #[serde(default)]
    pub(crate) description: String,
    /// The buyer: a persona key or a SIRET.
    pub(crate) buyer: String,
    pub(crate) deadline: NaiveDate,
}

/// A published tender.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Tender {
    pub(crate) reference: String,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) buyer_siret: String,
    pub(crate) buyer_name: String,
    pub(crate) deadline: NaiveDate,
}

/// Where an application stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    /// Every piece obtained, nothing to check.
    Complete,
    /// Something for the buyer to check (non-diffusible data, officer not matched…).
    AVerifier,
    /// A reason to exclude the company (refused certificate, ceased company…).
    Rejetee,
    /// A provider was unavailable: kept, to be refreshed.
    Incomplete,
}

/// A piece of the application and how it was obtained.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Piece {
    /// `identite_insee`, `extrait_rcs`, `attestation_vigilance`, `attestation_fiscale`,
    /// `conformite_msa`.
    pub(crate) kind: String,
    /// `obtenue`, `refusee`, `non_diffusible`, `introuvable`, `indisponible`, `non_applicable`.
    pub(crate) status: String,
    pub(crate) source: String,
    pub(crate) detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) document_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) valid_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) valid_until: Option<String>,
    /// The hub's error code, when it answered one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) code: Option<String>,
    /// The hub's HTTP status, when it answered an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) hub_status: Option<u16>,
}

/// Why an application is rejected, flagged or incomplete.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Finding {
    /// How much it weighs on the application.
    pub(crate) level: Level,
    /// What the buyer and the applicant read.
    pub(crate) message: String,
}

/// A finding's weight; the worst one gives the application's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Level {
    /// The application is rejected (`rejet`).
    Rejet,
    /// The buyer checks by hand (`a_verifier`).
    AVerifier,
    /// A source did not answer: refresh later (`indisponible`).
    Indisponible,
}

impl Level {
    /// The word the JSON API and the pages use.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Level::Rejet => "rejet",
            Level::AVerifier => "a_verifier",
            Level::Indisponible => "indisponible",
        }
    }
}

/// An application (candidature).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Application {
    pub(crate) id: String,
    pub(crate) tender: String,
    pub(crate) siret: String,
    pub(crate) status: Status,
    /// Who applied, as FranceConnect asserted it.
    pub(crate) applicant: Value,
    /// The pre-filled fields.
    pub(crate) entreprise: Value,
    pub(crate) pieces: Vec<Piece>,
    pub(crate) findings: Vec<Finding>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    /// How many times the pieces were fetched.
    pub(crate) attempts: u32,
}

#[derive(Clone)]
struct Marche {
    core: PartyCore,
    title: Arc<str>,
    rp: oidc::RelyingParty,
    sessions: Sessions,
    tenders: Store<Tender>,
    initial_tenders: Arc<Vec<Tender>>,
    applications: Store<Application>,
    hub_url: String,
    hub_token: String,
    context: String,
    msa_divisions: Arc<Vec<String>>,
    http: reqwest::Client,
}

/// What the platform resolved for the marketplace.
pub(crate) struct Resolved {
    pub(crate) own_url: String,
    pub(crate) broker_url: String,
    pub(crate) hub_url: String,
    pub(crate) hub_jwt: String,
    pub(crate) store: Option<PathBuf>,
}

/// The marketplace party.
///
/// Long: the service's route table, one route a line.
pub(crate) fn app(
    population: Arc<Population>,
    cfg: &MarcheConfig,
    r: Resolved,
) -> Result<PartyApp, String> {
    let core = PartyCore::new(PartyId::SP_MARCHE, population.clone());
    let mut tenders = Vec::new();
    for t in &cfg.tenders {
        let buyer_siret = super::resolve_siret(&population, &t.buyer)
            .ok_or_else(|| format!("tender {}: unknown buyer {:?}", t.reference, t.buyer))?;
        let buyer_name = population
            .establishment_by_siret(&buyer_siret)
            .map(|(c, _)| c.name.clone())
            .unwrap_or_else(|| t.buyer.clone());
        tenders.push(Tender {
            reference: t.reference.clone(),
            title: t.title.clone(),
            description: t.description.clone(),
            buyer_siret,
            buyer_name,
            deadline: t.deadline,
        });
    }
    let applications = match &r.store {
        Some(file) => Store::open(file)?,
        None => Store::memory(),
    };
    let store = Store::memory();
    for t in &tenders {
        store.put(&t.reference, t.clone())?;
    }
    let title: Arc<str> = cfg.title.as_str().into();
    let m = Marche {
        rp: cfg
            .france_connect
            .relying_party(&r.broker_url, &r.own_url, core.clock.clone()),
        core: core.clone(),
        title: title.clone(),
        sessions: Sessions::new(core.clock.clone()),
        tenders: store,
        initial_tenders: Arc::new(tenders),
        applications,
        hub_url: r.hub_url,
        hub_token: r.hub_jwt,
        context: cfg.context.clone(),
        msa_divisions: Arc::new(cfg.msa_naf_divisions.clone()),
        http: super::http_client(Duration::from_secs(30)),
    };
    let router = crate::http::Routes::new()
        .page_get("/", home)
        .page_get("/connexion", sign_in)
        .page_get("/oidc-callback", super::callback::<Marche>)
        .page_post("/deconnexion", super::sign_out::<Marche>)
        .page_get("/appels-d-offres/{reference}", tender_page)
        .page_post("/appels-d-offres/{reference}/candidater", apply_form)
        .page_get("/acheteur", buyer_page)
        .page_post("/acheteur", publish_form)
        .page_get("/candidatures/{id}", application_page)
        .page_post("/candidatures/{id}/actualiser", refresh_form)
        .get("/api/session", api_session)
        .get("/api/appels-d-offres", api_tenders)
        .post("/api/appels-d-offres", api_publish)
        .get("/api/appels-d-offres/{reference}", api_tender)
        .post("/api/appels-d-offres/{reference}/candidatures", api_apply)
        .get("/api/candidatures/{id}", api_application)
        .post("/api/candidatures/{id}/actualiser", api_refresh)
        .fallback(super::not_found)
        .method_not_allowed_fallback(super::method_not_allowed)
        .with_state(m.clone());
    let reset = m.clone();
    let app = PartyApp::new(core, Role::Sp, title.to_string().into(), router, openapi)
        .with_rejection(super::rejection);
    Ok(app.on_reset(move || {
        reset.sessions.clear();
        // A reset clears what the bench made; applications kept in a file are the user's.
        if !reset.applications.is_persistent() {
            let _ = reset.applications.retain(|_| false);
        }
        let _ = reset.tenders.retain(|_| false);
        for t in reset.initial_tenders.iter() {
            let _ = reset.tenders.put(&t.reference, t.clone());
        }
    }))
}

// --- Sign-in --------------------------------------------------------------------------------

#[derive(Deserialize)]
struct ReturnTo {
    retour: Option<String>,
}

/// A local path only: never an open redirect.
fn local_path(p: Option<String>) -> String {
    p.filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.contains('\\'))
        .unwrap_or_else(|| "/".into())
}

async fn sign_in(State(m): State<Marche>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let back: ReturnTo =
        serde_urlencoded::from_str(q.as_deref().unwrap_or("")).unwrap_or(ReturnTo { retour: None });
    let scopes: Vec<String> = ["openid", "identite_pivot", "email"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    oidc::begin(
        &m.sessions,
        &m.rp,
        &headers,
        &scopes,
        &local_path(back.retour),
    )
    .await
    .unwrap_or_else(|e| error_page(&m, StatusCode::BAD_GATEWAY, None, &e.0))
}

crate::sp::service!(Marche, "/", "Retour aux appels d'offres");
