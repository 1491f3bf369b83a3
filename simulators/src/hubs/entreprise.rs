//! API Entreprise (v3/v4) over the simulated providers, for public tenders (MPS). Each endpoint validates the token, scopes, rate limit,
//! tracing parameters and identifier, calls the provider over HTTP, and translates its answer
//! into API Entreprise's shape and error codes. Served so far: INSEE legal units and
//! establishments, URSSAF attestation de vigilance, Infogreffe RCS extract, MSA contributions
//! compliance.

mod openapi;
use openapi::openapi;

use crate::defects::Defect;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use serde_json::{Value, json};

use super::contract;
use super::entreprise_shapes as shapes;
use super::{
    CachePolicy, Endpoint, Hub, HubCall, Upstream, envelope, hub_error, json_api, provider_failure,
    query_map,
};
use crate::http::{PartyApp, PartyCore, PartyId};
use crate::population::{Population, ids};

/// An endpoint of the `json_resources_entreprise` group: 250 calls a minute, with `context`,
/// `object` and `recipient` required, as most of API Entreprise's.
const fn json_resource(
    route: &'static str,
    scopes: &'static [&'static str],
    cache: CachePolicy,
) -> Endpoint {
    Endpoint {
        route,
        scopes,
        group: "json_resources_entreprise",
        limit: 250,
        period: 60,
        requires_context: true,
        cache,
    }
}

/// INSEE legal unit (v4).
pub const UNITE_LEGALE: Endpoint = json_resource(
    "/v4/insee/sirene/unites_legales/{siren}",
    &["entreprises", "unites_legales_etablissements_insee"],
    CachePolicy::Seconds(3600),
);

/// INSEE establishment (v4).
pub const ETABLISSEMENT: Endpoint = json_resource(
    "/v4/insee/sirene/etablissements/{siret}",
    &["etablissements", "unites_legales_etablissements_insee"],
    CachePolicy::Seconds(3600),
);

/// URSSAF attestation de vigilance (v4).
pub const ATTESTATION_VIGILANCE: Endpoint = Endpoint {
    group: "urssaf_attestation_sociales",
    limit: 100,
    cache: CachePolicy::UntilTomorrow8,
    ..json_resource(
        "/v4/urssaf/unites_legales/{siren}/attestation_vigilance",
        &["attestations_sociales", "attestation_sociale_urssaf"],
        CachePolicy::None,
    )
};

/// Infogreffe RCS extract (Kbis data, v3).
pub const EXTRAIT_KBIS: Endpoint = json_resource(
    "/v3/infogreffe/rcs/unites_legales/{siren}/extrait_kbis",
    &["extraits_rcs", "open_data"],
    CachePolicy::None,
);

/// MSA contributions compliance (v3).
pub const CONFORMITE_MSA: Endpoint = json_resource(
    "/v3/msa/etablissements/{siret}/conformite_cotisations",
    &["msa_cotisations", "cotisations_msa"],
    CachePolicy::None,
);

const INSEE_PATH: &str = "/entreprises/sirene/V3.11";

/// DGFiP attestation de régularité fiscale (v4).
pub const ATTESTATION_FISCALE: Endpoint = Endpoint {
    group: "high_latency_documents_attestation_fiscale",
    limit: 5,
    cache: CachePolicy::UntilTomorrow8,
    ..json_resource(
        "/v4/dgfip/unites_legales/{siren}/attestation_fiscale",
        &["attestations_fiscales", "attestation_fiscale_dgfip"],
        CachePolicy::None,
    )
};

/// DGFiP turnover of the last three financial years (v3).
pub const CHIFFRES_AFFAIRES: Endpoint = json_resource(
    "/v3/dgfip/etablissements/{siret}/chiffres_affaires",
    &["chiffre_affaires_dgfip", "exercices"],
    CachePolicy::Seconds(3600),
);

/// The providers' health checks behind `/ping/{provider}/{source}`.
pub static PINGS: &[super::Ping] = &[
    (
        PartyId::INSEE,
        "sirene",
        "/entreprises/sirene/V3.11/informations",
    ),
    (PartyId::URSSAF, "attestation_sociale", "/api/v1/ping"),
    (PartyId::INFOGREFFE, "rcs", "/api/v1/ping"),
    (PartyId::MSA, "conformite_cotisations", "/api/v1/ping"),
    (PartyId::DGFIP, "attestation_fiscale", "/ping"),
];
/// How long a document URL stays valid, seconds.
const DOCUMENT_URL_LIFETIME: u64 = 86_400;

/// The API Entreprise party.
pub fn app(
    population: Arc<Population>,
    settings: &super::HubSettings,
    providers: HashMap<String, String>,
) -> PartyApp {
    let core = PartyCore::new(PartyId::API_ENTREPRISE, population);
    let dgfip = settings
        .dgfip_client_id
        .clone()
        .zip(settings.dgfip_client_secret.clone());
    let hub = Hub::new(
        core.clone(),
        settings.secret.as_bytes(),
        providers,
        std::time::Duration::from_millis(settings.provider_timeout_ms),
        dgfip,
    );
    for t in &settings.tokens {
        hub.registry.insert(t.clone());
    }
    let router = crate::http::Routes::new()
        .get(UNITE_LEGALE.route, unite_legale)
        .get(ETABLISSEMENT.route, etablissement)
        .get(ATTESTATION_VIGILANCE.route, attestation_vigilance)
        .get(EXTRAIT_KBIS.route, extrait_kbis)
        .get(CONFORMITE_MSA.route, conformite_msa)
        .get(ATTESTATION_FISCALE.route, attestation_fiscale)
        .get(CHIFFRES_AFFAIRES.route, chiffres_affaires)
        .get(
            "/files/{id}",
            |State(hub): State<Hub>, Path(id): Path<String>| async move { hub.file(&id).await },
        )
        .get("/pings", |State(hub): State<Hub>| async move {
            hub.pings(PINGS, |p, s| format!("/ping/{p}/{s}"))
        })
        .get(
            "/ping/{provider}/{source}",
            |State(hub): State<Hub>, Path((p, s)): Path<(String, String)>| async move {
                hub.ping(PINGS, &p, &s).await
            },
        )
        .get("/privileges", privileges)
        .get("/v2/privileges", privileges)
        .fallback(super::not_found)
        .method_not_allowed_fallback(super::method_not_allowed)
        .with_state(hub.clone());
    let reset = hub.clone();
    PartyApp::registered(core, router, openapi)
        .with_rejection(super::jsonapi::rejection)
        .on_reset(move || reset.reset())
        .with_control(super::control(hub))
}

/// INSEE's answer translated: 200 → data, 404 → `01003`, 403 (never diffused) → 451 `01005`.
fn insee_answer(
    outcome: &Upstream,
    key: &str,
    base: &str,
    shape: fn(&Value, &str) -> Value,
) -> Response {
    let meta = Some(json!({"provider": "INSEE"}));
    match outcome {
        Upstream::Answer(200, body) => match serde_json::from_slice::<Value>(body)
            .ok()
            .filter(|v| v[key].is_object())
        {
            Some(v) => json_api(&shape(&v[key], base)),
            None => provider_failure("01", "INSEE", &Upstream::Answer(200, body.clone())),
        },
        Upstream::Answer(404, _) => hub_error(
            "01003",
            "Le siret ou siren indiqué n'existe pas, n'est pas connu ou ne comporte aucune information pour cet appel",
            None,
            meta,
        ),
        Upstream::Answer(403, _) => hub_error(
            "01005",
            "Cette entité n'est pas diffusible : l'INSEE ne communique pas ses données",
            None,
            meta,
        ),
        other => provider_failure("01", "INSEE", other),
    }
}

async fn unite_legale(State(hub): State<Hub>, Path(siren): Path<String>, r: Incoming) -> Response {
    let base = r.base_url();
    let path = format!("{INSEE_PATH}/siren/{siren}");
    relay(
        &hub,
        &UNITE_LEGALE,
        r,
        &siren,
        Identifier::Siren,
        PartyId::INSEE,
        path,
        |o| insee_answer(&o, "uniteLegale", &base, shapes::unite_legale),
    )
    .await
}

async fn etablissement(State(hub): State<Hub>, Path(siret): Path<String>, r: Incoming) -> Response {
    let base = r.base_url();
    let path = format!("{INSEE_PATH}/siret/{siret}");
    relay(
        &hub,
        &ETABLISSEMENT,
        r,
        &siret,
        Identifier::Siret,
        PartyId::INSEE,
        path,
        |o| insee_answer(&o, "etablissement", &base, shapes::etablissement),
    )
    .await
}

/// The course of an endpoint that asks one provider once: the hub's checks, the call, then
/// `answer` translates the provider's outcome.
#[allow(clippy::too_many_arguments)] // the endpoint's whole identity, said once per handler
async fn relay(
    hub: &Hub,
    e: &'static Endpoint,
    r: Incoming,
    id: &str,
    kind: Identifier,
    provider: PartyId,
    path: String,
    answer: impl FnOnce(Upstream) -> Response,
) -> Response {
    handle(hub, e, r, id, kind, async |call: &mut HubCall| {
        answer(hub.upstream(call, &provider, &path, &[]).await)
    })
    .await
}

async fn attestation_fiscale(
    State(hub): State<Hub>,
    Path(siren): Path<String>,
    r: Incoming,
) -> Response {
    handle(&hub, &ATTESTATION_FISCALE, r, &siren, Identifier::Siren, async |call: &mut HubCall| {
        let meta = Some(json!({"provider": "DGFIP - Adélie"}));
        match hub.dgfip(call, &format!("/entreprises/1.0/attestationfiscale/{siren}")).await {
            Upstream::Answer(200, body) => {
                let v: Value = serde_json::from_slice(&body).unwrap_or_default();
                match v["statut"].as_str() {
                    Some("DELIVREE") => envelope(json!({
                        "document_url": hub.file_url(&PartyId::DGFIP, v["urlDocument"].as_str().unwrap_or_default(), DOCUMENT_URL_LIFETIME as i64),
                        "document_url_expires_in": DOCUMENT_URL_LIFETIME,
                        "date_delivrance_attestation": v["dateDelivrance"],
                        "date_periode_analysee": v["periodeAnalysee"],
                    })),
                    Some("NON_DELIVRABLE") => hub_error("03003", "La DGFiP ne délivre pas d'attestation : l'entreprise ne satisfait pas à ses obligations fiscales", None, meta),
                    _ => provider_failure("03", "DGFIP - Adélie", &Upstream::Answer(200, body)),
                }
            }
            Upstream::Answer(404, _) => hub_error("03003", "L'entreprise est inconnue de la DGFiP ou hors du périmètre des attestations fiscales", None, meta),
            other => provider_failure("03", "DGFIP - Adélie", &other),
        }
    }).await
}

async fn chiffres_affaires(
    State(hub): State<Hub>,
    Path(siret): Path<String>,
    r: Incoming,
) -> Response {
    handle(&hub, &CHIFFRES_AFFAIRES, r, &siret, Identifier::Siret, async |call: &mut HubCall| match hub.dgfip(call, &format!("/entreprises/1.0/chiffresaffaires/{siret}")).await {
        Upstream::Answer(200, body) => match serde_json::from_slice::<Value>(&body).ok().and_then(|v| v["liste_ca"].as_array().cloned()) {
            Some(list) => {
                // A collection: each item in its own envelope.
                let items: Vec<Value> = list.iter().map(|ca| json!({"data": {"chiffre_affaires": ca["ca"], "date_fin_exercice": ca["dateFinExercice"]}, "links": {}, "meta": {}})).collect();
                crate::http::typed_json(StatusCode::OK, &json!({"data": items, "links": {}, "meta": {"count": items.len()}}), super::JSON_API)
            }
            None => provider_failure("03", "DGFIP - Adélie", &Upstream::Answer(200, body)),
        },
        Upstream::Answer(404, _) => hub_error("03003", "Aucun chiffre d'affaires déclaré pour cet établissement", None, Some(json!({"provider": "DGFIP - Adélie"}))),
        other => provider_failure("03", "DGFIP - Adélie", &other),
    }).await
}

async fn privileges(
    State(hub): State<Hub>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    hub.privileges(&headers, Some(peer))
}

/// What every endpoint reads from the request besides its path parameter.
pub(crate) struct Incoming {
    headers: HeaderMap,
    peer: Option<SocketAddr>,
    /// The query string as sent, decoded by `handle` (strictly, unless a defect says not).
    raw_query: Option<String>,
    path: String,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Incoming {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Incoming {
            headers: parts.headers.clone(),
            peer: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
            raw_query: parts.uri.query().map(str::to_string),
            // The cache key: everything in the request that can change the answer.
            path: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
        })
    }
}

impl Incoming {
    /// The hub's own base URL as the caller reached it (links in answers point there).
    fn base_url(&self) -> String {
        let host = self
            .headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}")
    }
}

/// The identifier an endpoint is about, checked before any provider call.
enum Identifier {
    Siren,
    Siret,
}

impl Identifier {
    /// 422 `00301`/`00302` for a malformed identifier.
    fn check(&self, id: &str) -> Option<Response> {
        let (valid, code, name) = match self {
            Identifier::Siren => (
                ids::is_valid_siren(id) || id == ids::LA_POSTE_SIREN,
                "00301",
                "siren",
            ),
            Identifier::Siret => (ids::is_valid_siret(id), "00302", "siret"),
        };
        (!valid).then(|| {
            hub_error(
                code,
                &format!("Le numéro de {name} indiqué n'est pas correctement formatté"),
                Some(json!({"parameter": name})),
                None,
            )
        })
    }
}

/// Every endpoint's course: admit the call, check the identifier, serve (cache, duplicate
/// guard, `work` for the provider calls), journal.
async fn handle(
    hub: &Hub,
    e: &'static Endpoint,
    r: Incoming,
    id: &str,
    kind: Identifier,
    work: impl AsyncFnOnce(&mut HubCall) -> Response,
) -> Response {
    let query = if hub
        .core
        .defects
        .has(Defect::HubForwardsUndecodableParameters)
    {
        super::jsonapi::lossy_query_map(r.raw_query.as_deref())
    } else {
        query_map(r.raw_query.as_deref())
    };
    let mut call = match hub.begin(&r.headers, r.peer, &query, e) {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let lax = matches!(kind, Identifier::Siren)
        && hub.core.defects.has(Defect::HubSkipsSirenChecksum)
        && id.len() == 9
        && id.bytes().all(|b| b.is_ascii_digit());
    let response = match kind.check(id).filter(|_| !lax) {
        Some(bad) => bad,
        None => hub.serve(&mut call, &r.headers, &r.path, work).await,
    };
    hub.finish(call, id, response)
}

/// The last day an attestation de vigilance is valid, computed by the hub from the analysed month
/// (the end of the sixth month after it), whatever the provider states.
fn validity_end(analysed: NaiveDate) -> NaiveDate {
    let first = analysed.with_day(1).unwrap_or(analysed);
    first
        .checked_add_months(chrono::Months::new(7))
        .and_then(|d| d.pred_opt())
        .unwrap_or(first)
}

/// URSSAF's answer translated. The hub computes the validity: from the issue date to the end of
/// the sixth month after the analysed month.
fn urssaf_answer(hub: &Hub, outcome: &Upstream) -> Response {
    let meta = Some(json!({"provider": "ACOSS"}));
    let body = match outcome {
        Upstream::Answer(200, body) => serde_json::from_slice::<Value>(body).ok(),
        Upstream::Answer(404, _) => {
            return hub_error(
                "04003",
                "Le siret ou siren indiqué n'existe pas, n'est pas connu ou ne comporte aucune information pour cet appel",
                None,
                meta,
            );
        }
        other => return provider_failure("04", "ACOSS", other),
    };
    let Some(body) = body else {
        return provider_failure("04", "ACOSS", &Upstream::Answer(200, Default::default()));
    };
    match body["statut"].as_str() {
        Some("DELIVREE") => {
            let analysed = body["periodeAnalysee"]
                .as_str()
                .and_then(|p| NaiveDate::parse_from_str(&format!("{p}-01"), "%Y-%m-%d").ok());
            let (Some(analysed), Some(url)) = (analysed, body["urlDocument"].as_str()) else {
                return provider_failure("04", "ACOSS", &Upstream::Answer(200, Default::default()));
            };
            envelope(json!({
                "entity_status": {"code": "ok", "libelle": "Attestation délivrée par l'Urssaf", "description": "L'entreprise est à jour de ses obligations déclaratives et de paiement."},
                "date_debut_validite": body["dateEmission"],
                "date_fin_validite": validity_end(analysed).format("%Y-%m-%d").to_string(),
                "code_securite": body["codeSecurite"],
                // On the hub, for a day, as the real hub hands documents out.
                "document_url": hub.file_url(&PartyId::URSSAF, url, DOCUMENT_URL_LIFETIME as i64),
                "document_url_expires_in": DOCUMENT_URL_LIFETIME,
            }))
        }
        Some("REFUS_DE_DELIVRANCE") => envelope(json!({
            "entity_status": {"code": "refus_de_delivrance", "libelle": "Délivrance de l'attestation refusée par l'Urssaf", "description": body["motif"]},
            "date_debut_validite": null, "date_fin_validite": null, "code_securite": null, "document_url": null, "document_url_expires_in": null,
        })),
        // Manual review at URSSAF: the documented 502, retry in two days.
        Some("EN_COURS_DE_TRAITEMENT_MANUEL") => hub_error(
            "04501",
            "La situation de l'entreprise requiert une analyse manuelle d'un agent de l'Urssaf ; réessayez dans deux jours",
            None,
            Some(json!({"provider": "ACOSS", "retry_in": 172_800})),
        ),
        _ => provider_failure("04", "ACOSS", &Upstream::Answer(200, Default::default())),
    }
}

async fn attestation_vigilance(
    State(hub): State<Hub>,
    Path(siren): Path<String>,
    r: Incoming,
) -> Response {
    let path = format!("/api/v1/attestations/vigilance/{siren}");
    relay(
        &hub,
        &ATTESTATION_VIGILANCE,
        r,
        &siren,
        Identifier::Siren,
        PartyId::URSSAF,
        path,
        |o| urssaf_answer(&hub, &o),
    )
    .await
}

/// Infogreffe's extract in API Entreprise's shape.
async fn extrait_kbis(State(hub): State<Hub>, Path(siren): Path<String>, r: Incoming) -> Response {
    let path = format!("/api/v1/entreprises/{siren}/extrait-rcs");
    relay(
        &hub,
        &EXTRAIT_KBIS,
        r,
        &siren,
        Identifier::Siren,
        PartyId::INFOGREFFE,
        path,
        |o| match o {
            Upstream::Answer(200, body) => match serde_json::from_slice::<Value>(&body) {
                Ok(k) if k["siren"].is_string() => json_api(&shapes::extrait_kbis(&k)),
                _ => provider_failure("02", "Infogreffe", &Upstream::Answer(200, body)),
            },
            Upstream::Answer(404, _) => hub_error(
                "02003",
                "L'entreprise n'est pas connue du RCS ou n'y est pas immatriculée",
                None,
                Some(json!({"provider": "Infogreffe"})),
            ),
            other => provider_failure("02", "Infogreffe", &other),
        },
    )
    .await
}

async fn conformite_msa(
    State(hub): State<Hub>,
    Path(siret): Path<String>,
    r: Incoming,
) -> Response {
    let path = format!("/api/v1/conformite-cotisations/{siret}");
    relay(
        &hub,
        &CONFORMITE_MSA,
        r,
        &siret,
        Identifier::Siret,
        PartyId::MSA,
        path,
        |o| match o {
            Upstream::Answer(200, body) => {
                let status = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v["statut"].as_str().map(str::to_string));
                let ours = match status.as_deref() {
                    Some("A_JOUR") => "up_to_date",
                    Some("NON_A_JOUR") => "outdated",
                    Some("EN_COURS_DE_CONTROLE") => "under_investigation",
                    _ => return provider_failure("10", "MSA", &Upstream::Answer(200, body)),
                };
                envelope(json!({"status": ours}))
            }
            Upstream::Answer(404, _) => hub_error(
                "10003",
                "Aucun compte cotisant MSA pour cet établissement",
                None,
                Some(json!({"provider": "MSA"})),
            ),
            other => provider_failure("10", "MSA", &other),
        },
    )
    .await
}
