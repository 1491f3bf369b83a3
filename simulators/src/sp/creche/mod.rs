//! The town's nursery service (`sp-creche`): a parent signs in with FranceConnect, consents to
//! sharing, and gets the hourly fee and the monthly bill of a place in one of the town's
//! nurseries, computed with the CNAF's scale ([`super::psu`]). Each nursery reads the family's
//! figures one way ([`DataPath`]):
//!
//! 1. `api_particulier_france_connect`: API Particulier's `participation_familiale_eaje` in
//!    FranceConnect mode (the parent's access token as Bearer; the hub checks it);
//! 2. `dgfip_france_connect`: the DGFiP's FranceConnect-mode route (gateway token plus the
//!    parent's access token in `X-FranceConnect-OAuth`): resources from the tax situation,
//!    children declared by the parent;
//! 3. `api_particulier_identite`: at the counter, an agent enters the parent's identity pivot
//!    (no sign-in), under the legal basis the nursery states.
//!
//! Every outcome is explained: fee computed (floor, ceiling or AEEH applied), no CAF/MSA file,
//! identity not found, provider unavailable.

mod api;
mod computation;
mod openapi;
mod pages;
mod paths;

use api::*;
use computation::*;
use openapi::*;
use pages::*;
use paths::*;

use crate::http::trace::Propagate as _;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::SpError;
use super::psu::{Bareme, Bound, Family, Fee};
use super::{
    FranceConnectClient, Sessions, SignedIn, decimal, error_page, euros, oidc, page, problem,
    see_other,
};
use crate::defects::Defect;
use crate::http::{PartyApp, PartyCore, PartyId, Role, json_response, with_subject};
use crate::population::Population;

/// `[sp-creche]` in `scenarios/service_providers.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CrecheConfig {
    pub(crate) title: String,
    pub(crate) france_connect: FranceConnectClient,
    /// The town: `recipient` of API Particulier calls (persona key or SIRET).
    pub(crate) recipient: String,
    pub(crate) api_particulier: super::HubToken,
    /// The town's client at the DGFiP gateway.
    pub(crate) dgfip_client_id: String,
    pub(crate) dgfip_client_secret: String,
    /// Contracted hours a year when the parent does not say (230 days × 9 h).
    #[serde(default = "default_hours")]
    pub(crate) default_annual_hours: u32,
    pub(crate) psu: Bareme,
    pub(crate) nurseries: Vec<NurseryConfig>,
}

fn default_hours() -> u32 {
    2070
}

/// How a nursery reads the family's figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DataPath {
    ApiParticulierFranceConnect,
    DgfipFranceConnect,
    ApiParticulierIdentite,
}

impl DataPath {
    /// The FranceConnect scopes asked for: the identity pivot the data provider matches on,
    /// and only the data the fee needs.
    fn scopes(self) -> Vec<String> {
        let s: &[&str] = match self {
            DataPath::ApiParticulierFranceConnect => &[
                "openid",
                "identite_pivot",
                "cnav_participation_familiale_eaje_parametres_calcul",
            ],
            DataPath::DgfipFranceConnect => {
                &["openid", "identite_pivot", "dgfip_rfr", "dgfip_nbpart"]
            }
            DataPath::ApiParticulierIdentite => &[],
        };
        s.iter().map(|x| x.to_string()).collect()
    }
    fn label(self) -> &'static str {
        match self {
            DataPath::ApiParticulierFranceConnect => {
                "CAF ou MSA via API Particulier (FranceConnect)"
            }
            DataPath::DgfipFranceConnect => "Impôts (DGFiP) via FranceConnect",
            DataPath::ApiParticulierIdentite => "CAF ou MSA via API Particulier, au guichet",
        }
    }
}

/// A nursery of the town.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NurseryConfig {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) address: String,
    pub(crate) data_path: DataPath,
    /// The legal basis shown (and recorded) when the agent reads data without the parent
    /// signed in.
    #[serde(default)]
    pub(crate) legal_basis: String,
}

#[derive(Clone)]
struct Creche {
    core: PartyCore,
    title: Arc<str>,
    rp: oidc::RelyingParty,
    sessions: Sessions,
    nurseries: Arc<Vec<NurseryConfig>>,
    bareme: Arc<Bareme>,
    default_hours: u32,
    recipient: String,
    hub_url: String,
    hub_token: String,
    dgfip_url: String,
    dgfip_client: (String, String),
    http: reqwest::Client,
}

/// What the platform resolved for the nursery.
pub(crate) struct Resolved {
    pub(crate) own_url: String,
    pub(crate) broker_url: String,
    pub(crate) hub_url: String,
    pub(crate) hub_jwt: String,
    pub(crate) dgfip_url: String,
}

/// The nursery party.
pub(crate) fn app(
    population: Arc<Population>,
    cfg: &CrecheConfig,
    r: Resolved,
) -> Result<PartyApp, String> {
    let core = PartyCore::new(PartyId::SP_CRECHE, population.clone());
    let recipient = super::resolve_siret(&population, &cfg.recipient)
        .ok_or_else(|| format!("sp-creche: unknown recipient {:?}", cfg.recipient))?;
    if cfg.nurseries.is_empty() {
        return Err("sp-creche: configure at least one nursery".into());
    }
    let title: Arc<str> = cfg.title.as_str().into();
    let c = Creche {
        core: core.clone(),
        title: title.clone(),
        rp: cfg
            .france_connect
            .relying_party(&r.broker_url, &r.own_url, core.clock.clone()),
        sessions: Sessions::new(core.clock.clone()),
        nurseries: Arc::new(cfg.nurseries.clone()),
        bareme: Arc::new(cfg.psu.clone()),
        default_hours: cfg.default_annual_hours,
        recipient,
        hub_url: r.hub_url,
        hub_token: r.hub_jwt,
        dgfip_url: r.dgfip_url,
        dgfip_client: (cfg.dgfip_client_id.clone(), cfg.dgfip_client_secret.clone()),
        http: super::http_client(Duration::from_secs(30)),
    };
    let router = crate::http::Routes::new()
        .page_get("/", home)
        .page_get("/connexion", sign_in)
        .page_get("/oidc-callback", super::callback::<Creche>)
        .page_post("/deconnexion", super::sign_out::<Creche>)
        .page_get("/creches/{id}", nursery_page)
        .page_post("/creches/{id}/estimation", estimate_form)
        .page_get("/creches/{id}/guichet", counter_page)
        .page_post("/creches/{id}/guichet", counter_form)
        .get("/api/session", api_session)
        .get("/api/creches", api_nurseries)
        .get("/api/bareme", api_bareme)
        .post("/api/creches/{id}/estimation", api_estimate)
        .post("/api/creches/{id}/guichet", api_counter)
        .fallback(super::not_found)
        .method_not_allowed_fallback(super::method_not_allowed)
        .with_state(c.clone());
    let reset = c.clone();
    Ok(
        PartyApp::new(core, Role::Sp, title.to_string().into(), router, openapi)
            .with_rejection(super::rejection)
            .on_reset(move || reset.sessions.clear()),
    )
}

// --- Sign-in --------------------------------------------------------------------------------

fn nursery<'a>(c: &'a Creche, id: &str) -> Option<&'a NurseryConfig> {
    c.nurseries.iter().find(|n| n.id == id)
}

#[derive(Deserialize)]
struct SignInQuery {
    creche: Option<String>,
}

async fn sign_in(State(c): State<Creche>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let which: SignInQuery = serde_urlencoded::from_str(q.as_deref().unwrap_or(""))
        .unwrap_or(SignInQuery { creche: None });
    let Some(n) = which
        .creche
        .as_deref()
        .and_then(|id| nursery(&c, id))
        .filter(|n| n.data_path != DataPath::ApiParticulierIdentite)
    else {
        return error_page(
            &c,
            StatusCode::BAD_REQUEST,
            None,
            "Choisissez d'abord une crèche (la connexion dépend des données qu'elle utilise).",
        );
    };
    // A new sign-in for another nursery's scopes replaces the previous one.
    oidc::begin(
        &c.sessions,
        &c.rp,
        &headers,
        &n.data_path.scopes(),
        &format!("/creches/{}", n.id),
    )
    .await
    .unwrap_or_else(|e| error_page(&c, StatusCode::BAD_GATEWAY, None, &e.0))
}

crate::sp::service!(Creche, "/", "Retour aux crèches");
