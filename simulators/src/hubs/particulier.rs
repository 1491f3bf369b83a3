//! API Particulier (v3) over the simulated CNAF and MSA: quotient familial and the nursery's
//! (EAJE) participation parameters, by identity pivot (`/identite`) or with the citizen's
//! FranceConnect access token (`/france_connect`, checked with `checktoken`). Each top-level key
//! of `data` is released only with its scope; the others are omitted.

mod identity;
use identity::{provider_query, reference_period};

mod openapi;
use openapi::openapi;

use crate::defects::Defect;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::contract;
use super::tokens::TokenRecord;
use super::{
    CachePolicy, Endpoint, Hub, HubCall, HubSettings, Upstream, envelope, hub_error,
    provider_failure, query_map,
};
use crate::http::{PartyApp, PartyCore, PartyId};
use crate::identity::checktoken_client::FranceConnectLink;
use crate::population::Population;

const fn endpoint(route: &'static str, scopes: &'static [&'static str]) -> Endpoint {
    Endpoint {
        route,
        scopes,
        group: "json_resources_particulier",
        limit: 20,
        period: 1,
        requires_context: false,
        cache: CachePolicy::Seconds(86_400),
    }
}

const QF_SCOPES: &[&str] = &[
    "cnaf_quotient_familial",
    "cnaf_allocataires",
    "cnaf_enfants",
    "cnaf_adresse",
];
const EAJE_SCOPES: &[&str] = &[
    "cnav_participation_familiale_eaje_allocataires",
    "cnav_participation_familiale_eaje_enfants",
    "cnav_participation_familiale_eaje_adresse",
    "cnav_participation_familiale_eaje_parametres_calcul",
];
/// Quotient familial by identity pivot.
pub const QF_IDENTITE: Endpoint = endpoint("/v3/dss/quotient_familial/identite", QF_SCOPES);
/// Quotient familial by FranceConnect token.
pub const QF_FRANCE_CONNECT: Endpoint =
    endpoint("/v3/dss/quotient_familial/france_connect", QF_SCOPES);
/// EAJE participation by identity pivot.
pub const EAJE_IDENTITE: Endpoint =
    endpoint("/v3/dss/participation_familiale_eaje/identite", EAJE_SCOPES);
/// EAJE participation by FranceConnect token.
pub const EAJE_FRANCE_CONNECT: Endpoint = endpoint(
    "/v3/dss/participation_familiale_eaje/france_connect",
    EAJE_SCOPES,
);

/// Which scope releases which key of `data`.
const QF_FIELDS: &[(&str, &str)] = &[
    ("cnaf_quotient_familial", "quotient_familial"),
    ("cnaf_allocataires", "allocataires"),
    ("cnaf_enfants", "enfants"),
    ("cnaf_adresse", "adresse"),
];
const EAJE_FIELDS: &[(&str, &str)] = &[
    (
        "cnav_participation_familiale_eaje_allocataires",
        "allocataires",
    ),
    ("cnav_participation_familiale_eaje_enfants", "enfants"),
    ("cnav_participation_familiale_eaje_adresse", "adresse"),
    (
        "cnav_participation_familiale_eaje_parametres_calcul",
        "parametres_calcul_participation_familiale",
    ),
];

/// The regimes' health checks behind `/api/{provider}/ping`.
pub static PINGS: &[super::Ping] = &[
    (PartyId::CNAF, "default", "/api/v1/ping"),
    (PartyId::MSA, "default", "/api/v1/ping"),
];

#[derive(Clone)]
struct ApState {
    hub: Hub,
    france_connect: Option<FranceConnectLink>,
}

/// The API Particulier party.
pub fn app(
    population: Arc<Population>,
    settings: &HubSettings,
    providers: HashMap<String, String>,
    france_connect: Option<FranceConnectLink>,
) -> PartyApp {
    let core = PartyCore::new(PartyId::API_PARTICULIER, population);
    let hub = Hub::new(
        core.clone(),
        settings.secret.as_bytes(),
        providers,
        std::time::Duration::from_millis(settings.provider_timeout_ms),
        None,
    );
    for t in &settings.tokens {
        hub.registry.insert(t.clone());
    }
    let state = ApState {
        hub: hub.clone(),
        france_connect: france_connect.map(|l| l.with_clock(core.clock.clone())),
    };
    let router =
        crate::http::Routes::new()
            .get(QF_IDENTITE.route, |s, h, c, q, u| by_identity(s, h, c, q, u, Kind::Qf))
            .get(EAJE_IDENTITE.route, |s, h, c, q, u| by_identity(s, h, c, q, u, Kind::Eaje))
            .get(QF_FRANCE_CONNECT.route, |s, h, q, u| by_france_connect(s, h, q, u, Kind::Qf))
            .get(EAJE_FRANCE_CONNECT.route, |s, h, q, u| by_france_connect(s, h, q, u, Kind::Eaje))
            .get("/api/introspect", introspect)
            .get("/api/pings", |State(s): State<ApState>| async move {
                    s.hub.pings(PINGS, |p, _| format!("/api/{p}/ping"))
                })
            .get("/api/{provider}/ping", |State(s): State<ApState>,
                     axum::extract::Path(p): axum::extract::Path<String>| async move {
                        s.hub.ping(PINGS, &p, "default").await
                    },)
            .fallback(super::not_found)
            .method_not_allowed_fallback(super::method_not_allowed)
            .with_state(state);
    let reset = hub.clone();
    PartyApp::registered(core, router, openapi)
        .with_rejection(super::jsonapi::rejection)
        .on_reset(move || reset.reset())
        .with_control(super::control(hub))
}

#[derive(Clone, Copy)]
enum Kind {
    Qf,
    Eaje,
}

impl Kind {
    fn endpoints(self) -> (&'static Endpoint, &'static Endpoint) {
        match self {
            Kind::Qf => (&QF_IDENTITE, &QF_FRANCE_CONNECT),
            Kind::Eaje => (&EAJE_IDENTITE, &EAJE_FRANCE_CONNECT),
        }
    }
    fn provider_path(self) -> &'static str {
        match self {
            Kind::Qf => "/api/v1/quotient-familial",
            Kind::Eaje => "/api/v1/participation-familiale-eaje",
        }
    }
    fn fields(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Kind::Qf => QF_FIELDS,
            Kind::Eaje => EAJE_FIELDS,
        }
    }
}

fn person(p: &Value, with_place: bool) -> Value {
    let date = format!(
        "{}-{}-{}",
        p["anneeDateDeNaissance"].as_str().unwrap_or("0000"),
        p["moisDateDeNaissance"].as_str().unwrap_or("00"),
        p["jourDateDeNaissance"].as_str().unwrap_or("00")
    );
    let mut out = json!({"nom_naissance": p["nomNaissance"], "nom_usage": p["nomUsage"], "prenoms": p["prenoms"], "date_naissance": date, "sexe": p["sexe"]});
    if with_place {
        out["code_cog_insee_commune_naissance"] = p["codeInseeLieuDeNaissance"].clone();
    }
    out
}

/// The regime's answer in API Particulier's shape.
fn data_of(kind: Kind, v: &Value, hub: &Hub) -> Value {
    let eaje = matches!(kind, Kind::Eaje);
    let people = |k: &str| {
        Value::Array(
            v[k].as_array()
                .map(|l| l.iter().map(|p| person(p, eaje)).collect())
                .unwrap_or_default(),
        )
    };
    let a = &v["adresse"];
    let mut data = json!({
        "allocataires": people("allocataires"),
        "enfants": people("enfants"),
        "adresse": {
            "destinataire": a["identite"], "complement_information": a["complementInformation"],
            "complement_information_geographique": a["complementInformationGeographique"], "numero_libelle_voie": a["numeroLibelleVoie"],
            "lieu_dit": a["lieuDit"], "code_postal_ville": a["codePostalVille"], "pays": a["pays"],
        },
    });
    let now = hub.core.clock.now();
    match kind {
        Kind::Qf => {
            data["quotient_familial"] = json!({
                "fournisseur": v["regime"], "valeur": v["quotientFamilial"], "annee": v["annee"], "mois": v["mois"],
                "annee_calcul": now.format("%Y").to_string().parse::<i32>().unwrap_or(0), "mois_calcul": now.format("%m").to_string().parse::<u32>().unwrap_or(0),
            });
        }
        Kind::Eaje => {
            let p = &v["parametresCalculParticipationFamiliale"];
            data["parametres_calcul_participation_familiale"] = json!({
                "nombre_enfants_a_charge": p["nombreEnfantsACharge"], "nombre_enfants_beneficiaire_aeeh": p["nombreEnfantsBeneficiaireAeeh"],
                "base_ressources_annuelles": {"valeur": p["baseRessourcesAnnuelles"]["valeur"], "annee_calcul": p["baseRessourcesAnnuelles"]["anneeCalcul"]},
            });
        }
    }
    data
}

/// Keeps the keys of `data` whose scope the caller holds.
fn filter(kind: Kind, data: Value, scopes: &[String]) -> Value {
    let Value::Object(map) = data else {
        return data;
    };
    let kept: Map<String, Value> = map
        .into_iter()
        .filter(|(k, _)| {
            kind.fields()
                .iter()
                .any(|(scope, key)| key == k && scopes.iter().any(|s| s == scope))
        })
        .collect();
    Value::Object(kept)
}

/// Asks the CNAF, then the MSA: each answers only for the files it holds.
async fn ask_regimes(
    hub: &Hub,
    call: &mut HubCall,
    kind: Kind,
    query: &[(String, String)],
) -> Response {
    let qs = serde_urlencoded::to_string(query).unwrap_or_default();
    let mut not_found = 0;
    for regime in [PartyId::CNAF, PartyId::MSA] {
        let outcome = hub
            .upstream(
                call,
                &regime,
                &format!("{}?{qs}", kind.provider_path()),
                &[],
            )
            .await;
        match outcome {
            Upstream::Answer(200, body) => match serde_json::from_slice::<Value>(&body) {
                Ok(v) if v["allocataires"].is_array() => return envelope(data_of(kind, &v, hub)),
                _ => return provider_failure("37", "CNAV", &Upstream::Answer(200, body)),
            },
            Upstream::Answer(404, body) => {
                let v: Value = serde_json::from_slice(&body).unwrap_or_default();
                if v["codeRetour"] == "151" {
                    return hub_error(
                        "37003",
                        "Le quotient familial ou les ressources de l'allocataire ne sont pas disponibles",
                        None,
                        Some(json!({"provider": "CNAV"})),
                    );
                }
                not_found += 1;
            }
            Upstream::Answer(409, _) => {
                return hub_error(
                    "00391",
                    "Plusieurs allocataires correspondent à cette identité : précisez-la",
                    None,
                    None,
                );
            }
            other => return provider_failure("37", "CNAV", &other),
        }
    }
    debug_assert_eq!(not_found, 2);
    hub_error(
        "35003",
        "Aucun dossier CNAF ni MSA ne correspond à cette identité",
        None,
        Some(json!({"provider": "CNAF & MSA"})),
    )
}

/// The cache key of an identity call: the path and the identity, not the recipient.
fn identity_key(path: &str, query: &[(String, String)]) -> String {
    let mut parts: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.sort();
    format!("{path}?{}", parts.join("&"))
}

async fn by_identity(
    State(s): State<ApState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(raw): RawQuery,
    uri: Uri,
    kind: Kind,
) -> Response {
    let endpoint = kind.endpoints().0;
    let pairs = crate::http::query_pairs(raw.as_deref());
    let mut call = match s
        .hub
        .begin(&headers, Some(peer), &query_map(raw.as_deref()), endpoint)
    {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let prenoms: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "prenoms[]" || k == "prenoms")
        .map(|(_, v)| v.clone())
        .collect();
    let response = match provider_query(
        &query_map(raw.as_deref()),
        &prenoms,
        s.hub.core.clock.now().date_naive(),
    ) {
        Err(bad) => bad,
        Ok(query) => {
            let key = identity_key(uri.path(), &query);
            let scopes = call.scopes();
            let hub = s.hub.clone();
            let answer = s
                .hub
                .serve(&mut call, &headers, &key, async |call: &mut HubCall| {
                    ask_regimes(&hub, call, kind, &query).await
                })
                .await;
            filter_response(&s.hub, kind, answer, &scopes).await
        }
    };
    let subject = pairs
        .iter()
        .find(|(k, _)| k == "nomNaissance")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    s.hub.finish(call, &subject, response)
}

/// Filters the `data` of a 200 by scope (cached answers are stored whole and filtered per caller).
async fn filter_response(hub: &Hub, kind: Kind, response: Response, scopes: &[String]) -> Response {
    if response.status() != StatusCode::OK || hub.core.defects.has(Defect::HubIgnoresScopeFiltering)
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let mut v: Value = serde_json::from_slice(&bytes).unwrap_or_default();
    v["data"] = filter(kind, v["data"].take(), scopes);
    let mut r = Response::from_parts(
        parts,
        axum::body::Body::from(serde_json::to_vec(&v).unwrap_or_default()),
    );
    r.headers_mut().remove(header::CONTENT_LENGTH);
    r
}

/// Long: the FranceConnect mode's course in the hub's order: checktoken, refusals, the regimes'
/// query, the answer filtered by scope.
async fn by_france_connect(
    State(s): State<ApState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    uri: Uri,
    kind: Kind,
) -> Response {
    let endpoint = kind.endpoints().1;
    // Every refusal is journalled, as the ones the guard makes.
    let refuse = |r: Response| s.hub.refuse(endpoint, r);
    let unauthorized = |detail: &str| refuse(hub_error("00101", detail, None, None));
    let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
    else {
        return unauthorized("Le jeton FranceConnect est absent (Authorization: Bearer)");
    };
    let Some(link) = &s.france_connect else {
        return refuse(hub_error(
            "00501",
            "Aucun compte checktoken n'est configuré pour ce hub",
            None,
            None,
        ));
    };
    let introspection = match link.introspect(bearer).await {
        Ok(Some(i)) => i,
        Ok(None) => return unauthorized("Le jeton FranceConnect est inconnu, expiré ou révoqué"),
        Err(e) => {
            return refuse(hub_error(
                "00501",
                &format!("Vérification du jeton impossible : {e}"),
                None,
                Some(json!({"retry_in": 10})),
            ));
        }
    };
    // The FranceConnect token's scopes are the caller's (identity scopes dropped).
    let scopes: Vec<String> = introspection
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty() && !s.contains("_identite"))
        .map(str::to_string)
        .collect();
    let now = s.hub.core.clock.now();
    let expires = introspection
        .get("exp")
        .and_then(Value::as_i64)
        .and_then(|e| chrono::DateTime::from_timestamp(e, 0))
        .unwrap_or(now);
    let jti = format!(
        "fc:{}",
        Sha256::digest(bearer.as_bytes())
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let token = TokenRecord {
        jti,
        subject: "FranceConnect".into(),
        scopes: scopes.clone(),
        expires,
        blacklisted: false,
        siret: None,
        allowed_ips: Vec::new(),
        rate_limit_per_minute: None,
    };
    let mut call = match s.hub.begin_as(token, &query_map(raw.as_deref()), endpoint) {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    // The identity pivot becomes the regimes' query.
    let text = |k: &str| {
        introspection
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let birth = text("birthdate");
    let mut parts = birth.split('-');
    let (y, m, d) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let mut query = vec![
        ("nomNaissance".to_string(), text("family_name")),
        (
            "sexe".to_string(),
            if text("gender") == "female" {
                "F".into()
            } else {
                "M".into()
            },
        ),
        ("anneeDateDeNaissance".to_string(), y.to_string()),
        ("moisDateDeNaissance".to_string(), m.to_string()),
        ("jourDateDeNaissance".to_string(), d.to_string()),
        ("codePaysLieuDeNaissance".to_string(), text("birthcountry")),
        ("prenoms".to_string(), text("given_name")),
    ];
    if !text("birthplace").is_empty() {
        query.push(("codeInseeLieuDeNaissance".into(), text("birthplace")));
    }
    // The month asked for applies in FranceConnect mode too.
    match reference_period(
        &query_map(raw.as_deref()),
        s.hub.core.clock.now().date_naive(),
    ) {
        Ok(period) => query.extend(period),
        Err(refused) => return s.hub.finish(call, &text("family_name"), refused),
    }
    let key = identity_key(uri.path(), &query);
    let hub = s.hub.clone();
    let answer = s
        .hub
        .serve(&mut call, &headers, &key, async |call: &mut HubCall| {
            ask_regimes(&hub, call, kind, &query).await
        })
        .await;
    let response = filter_response(&s.hub, kind, answer, &scopes).await;
    s.hub.finish(call, &text("family_name"), response)
}

/// `GET /api/introspect`: the token's id and scopes.
async fn introspect(
    State(s): State<ApState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    let r = s.hub.privileges(&headers, Some(peer));
    if r.status() != StatusCode::OK {
        return r;
    }
    let (_, body) = r.into_parts();
    let v: Value = serde_json::from_slice(
        &axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default(),
    )
    .unwrap_or_default();
    let jti = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .and_then(|t| crate::jose::jws::parts(t.trim()).ok())
        .and_then(|p| serde_json::from_slice::<Value>(&p.payload).ok())
        .map(|c| c["jti"].clone())
        .unwrap_or(Value::Null);
    crate::http::json_response(
        StatusCode::OK,
        &json!({"_id": jti, "name": "", "scopes": v["data"]["privileges"]}),
    )
}
