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

use crate::http::trace::Propagate as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::store::Store;
use super::{FranceConnectClient, Sessions, SignedIn, oidc, page, problem, see_other};
use crate::defects::Defect;
use crate::http::escape;
use crate::http::{PartyApp, PartyCore, Role, json_response, with_subject};
use crate::population::{Population, ids};

/// `[sp-marche]` in `scenarios/service_providers.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarcheConfig {
    pub title: String,
    pub france_connect: FranceConnectClient,
    /// The marketplace's API Entreprise habilitation.
    pub api_entreprise: super::HubToken,
    /// The `context` tracing parameter.
    #[serde(default = "default_context")]
    pub context: String,
    /// NAF divisions of agricultural employers, whose MSA compliance is fetched.
    #[serde(default = "default_msa_divisions")]
    pub msa_naf_divisions: Vec<String>,
    /// Where applications are kept (relative to the configuration file); in memory if absent.
    #[serde(default)]
    pub store: Option<PathBuf>,
    #[serde(default)]
    pub tenders: Vec<TenderConfig>,
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
pub struct TenderConfig {
    pub reference: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The buyer: a persona key or a SIRET.
    pub buyer: String,
    pub deadline: NaiveDate,
}

/// A published tender.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Tender {
    pub reference: String,
    pub title: String,
    pub description: String,
    pub buyer_siret: String,
    pub buyer_name: String,
    pub deadline: NaiveDate,
}

/// Where an application stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
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
pub struct Piece {
    /// `identite_insee`, `extrait_rcs`, `attestation_vigilance`, `attestation_fiscale`,
    /// `conformite_msa`.
    pub kind: String,
    /// `obtenue`, `refusee`, `non_diffusible`, `introuvable`, `indisponible`, `non_applicable`.
    pub status: String,
    pub source: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// The hub's error code, when it answered one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The hub's HTTP status, when it answered an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub_status: Option<u16>,
}

/// Why an application is rejected, flagged or incomplete.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Finding {
    /// `rejet`, `a_verifier` or `indisponible`.
    pub level: String,
    pub message: String,
}

/// An application (candidature).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Application {
    pub id: String,
    pub tender: String,
    pub siret: String,
    pub status: Status,
    /// Who applied, as FranceConnect asserted it.
    pub applicant: Value,
    /// The pre-filled fields.
    pub entreprise: Value,
    pub pieces: Vec<Piece>,
    pub findings: Vec<Finding>,
    pub created_at: String,
    pub updated_at: String,
    /// How many times the pieces were fetched.
    pub attempts: u32,
}

#[derive(Clone)]
struct Marche {
    core: PartyCore,
    title: &'static str,
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
pub struct Resolved {
    pub own_url: String,
    pub broker_url: String,
    pub hub_url: String,
    pub hub_jwt: String,
    pub store: Option<PathBuf>,
}

/// The marketplace party.
pub fn app(
    population: Arc<Population>,
    cfg: &MarcheConfig,
    r: Resolved,
) -> Result<PartyApp, String> {
    let core = PartyCore::new("sp-marche", population.clone());
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
    let title: &'static str = Box::leak(cfg.title.clone().into_boxed_str());
    let m = Marche {
        rp: oidc::RelyingParty::new(
            &r.broker_url,
            &cfg.france_connect.client_id,
            &cfg.france_connect.client_secret,
            &r.own_url,
            &cfg.france_connect.acr,
        ),
        core: core.clone(),
        title,
        sessions: Sessions::default(),
        tenders: store,
        initial_tenders: Arc::new(tenders),
        applications,
        hub_url: r.hub_url,
        hub_token: r.hub_jwt,
        context: cfg.context.clone(),
        msa_divisions: Arc::new(cfg.msa_naf_divisions.clone()),
        http: super::http_client(Duration::from_secs(30)),
    };
    let router = Router::new()
        .route("/", get(home))
        .route("/connexion", get(sign_in))
        .route("/oidc-callback", get(callback))
        .route("/deconnexion", post(sign_out))
        .route("/appels-d-offres/{reference}", get(tender_page))
        .route("/appels-d-offres/{reference}/candidater", post(apply_form))
        .route("/acheteur", get(buyer_page).post(publish_form))
        .route("/candidatures/{id}", get(application_page))
        .route("/candidatures/{id}/actualiser", post(refresh_form))
        .route("/api/session", get(api_session))
        .route("/api/appels-d-offres", get(api_tenders).post(api_publish))
        .route("/api/appels-d-offres/{reference}", get(api_tender))
        .route(
            "/api/appels-d-offres/{reference}/candidatures",
            post(api_apply),
        )
        .route("/api/candidatures/{id}", get(api_application))
        .route("/api/candidatures/{id}/actualiser", post(api_refresh))
        .fallback(super::not_found)
        .method_not_allowed_fallback(super::method_not_allowed)
        .with_state(m.clone());
    let reset = m.clone();
    Ok(PartyApp {
        core,
        role: Role::Sp,
        title,
        router,
        openapi,
        reset: Arc::new(move || {
            reset.sessions.clear();
            // A reset clears what the bench made; applications kept in a file are the user's.
            if !reset.applications.is_persistent() {
                let _ = reset.applications.retain(|_| false);
            }
            let _ = reset.tenders.retain(|_| false);
            for t in reset.initial_tenders.iter() {
                let _ = reset.tenders.put(&t.reference, t.clone());
            }
        }),
        control: None,
    })
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

async fn callback(State(m): State<Marche>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let now = m.core.clock.now().timestamp();
    oidc::finish(&m.sessions, &m.rp, &headers, q.as_deref(), now)
        .await
        .unwrap_or_else(|(status, e)| error_page(&m, status, None, &e))
}

async fn sign_out(State(m): State<Marche>, headers: HeaderMap) -> Response {
    oidc::end(&m.sessions, &m.rp, &headers).await
}

// --- Fetching the pieces --------------------------------------------------------------------

/// One call to API Entreprise: status and body (null when unreadable), or why it failed.
async fn hub_get(m: &Marche, path: &str, tender: &Tender) -> Result<(u16, Value), String> {
    let url = format!("{}{path}", m.hub_url);
    let r = m
        .http
        .get(&url)
        .bearer_auth(&m.hub_token)
        .query(&[
            ("context", m.context.as_str()),
            ("object", tender.reference.as_str()),
            ("recipient", tender.buyer_siret.as_str()),
        ])
        .propagate()
        .send()
        .await
        .map_err(|e| format!("API Entreprise injoignable : {e}"))?;
    let status = r.status().as_u16();
    let body = r.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

fn error_of(body: &Value) -> (Option<String>, String) {
    let e = &body["errors"][0];
    (
        e["code"].as_str().map(String::from),
        e["detail"]
            .as_str()
            .or(e["title"].as_str())
            .unwrap_or("erreur sans détail")
            .to_string(),
    )
}

fn piece(kind: &str, status: &str, source: &str, detail: impl Into<String>) -> Piece {
    Piece {
        kind: kind.into(),
        status: status.into(),
        source: source.into(),
        detail: detail.into(),
        document_url: None,
        valid_from: None,
        valid_until: None,
        code: None,
        hub_status: None,
    }
}

/// A hub answer that is not a result: the piece saying why.
fn unavailable(kind: &str, source: &str, outcome: Result<(u16, Value), String>) -> Piece {
    match outcome {
        Err(e) => piece(kind, "indisponible", source, e),
        Ok((status, body)) => {
            let (code, detail) = error_of(&body);
            let state = match status {
                404 => "introuvable",
                451 => "non_diffusible",
                _ => "indisponible",
            };
            Piece {
                code,
                hub_status: Some(status),
                ..piece(kind, state, source, format!("{detail} (HTTP {status})"))
            }
        }
    }
}

fn address_of(etablissement: &Value) -> Value {
    let a = &etablissement["adresse"]["acheminement_postal"];
    let lines: Vec<&str> = ["l4", "l5", "l6", "l7"]
        .iter()
        .filter_map(|k| a[*k].as_str())
        .collect();
    json!(lines.join(", "))
}

/// Fetches every piece of an application and decides its status.
async fn assemble(m: &Marche, app: &mut Application, tender: &Tender, user: &SignedIn) {
    let siret = app.siret.clone();
    let siren = siret[..9].to_string();
    let mut pieces = Vec::new();
    let mut findings = Vec::new();
    let mut entreprise = json!({"siret": siret, "siren": siren});
    // INSEE: the legal unit (identity), the establishment applied with, and the head office.
    let mut naf = String::new();
    let mut siege = String::new();
    match hub_get(
        m,
        &format!("/v4/insee/sirene/unites_legales/{siren}"),
        tender,
    )
    .await
    {
        Ok((200, body)) => {
            let ul = &body["data"];
            naf = ul["activite_principale"]["code"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let name = ul["personne_morale_attributs"]["raison_sociale"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| {
                    let pp = &ul["personne_physique_attributs"];
                    format!(
                        "{} {}",
                        pp["prenom_usuel"].as_str().unwrap_or(""),
                        pp["nom_naissance"].as_str().unwrap_or("")
                    )
                    .trim()
                    .to_string()
                });
            entreprise["raison_sociale"] = json!(name);
            entreprise["forme_juridique"] = ul["forme_juridique"]["libelle"].clone();
            entreprise["activite_principale"] = json!(format!(
                "{} — {}",
                naf,
                ul["activite_principale"]["libelle"].as_str().unwrap_or("")
            ));
            entreprise["tranche_effectif"] = ul["tranche_effectif_salarie"]["intitule"].clone();
            entreprise["etat_administratif"] = ul["etat_administratif"].clone();
            siege = ul["siret_siege_social"].as_str().unwrap_or("").to_string();
            entreprise["siret_siege"] = json!(siege);
            pieces.push(piece(
                "identite_insee",
                "obtenue",
                "INSEE",
                "Identité de l'unité légale (répertoire Sirene)",
            ));
            if ul["etat_administratif"] == "C" {
                findings.push(Finding {
                    level: "rejet".into(),
                    message:
                        "L'entreprise est cessée (répertoire Sirene) : elle ne peut pas candidater."
                            .into(),
                });
            }
        }
        other => {
            let p = unavailable("identite_insee", "INSEE", other);
            match p.status.as_str() {
                "non_diffusible" => findings.push(Finding {
                    level: "a_verifier".into(),
                    message: "Données non diffusibles (INSEE) : l'acheteur complètera l'identité de l'entreprise à partir des pièces qu'elle fournira."
                        .into(),
                }),
                "introuvable" => findings.push(Finding {
                    level: "rejet".into(),
                    message: "SIREN inconnu du répertoire Sirene.".into(),
                }),
                _ => {}
            }
            pieces.push(p);
        }
    }
    let identity_known = pieces.iter().any(|p| p.status == "obtenue");
    if identity_known {
        match hub_get(
            m,
            &format!("/v4/insee/sirene/etablissements/{siret}"),
            tender,
        )
        .await
        {
            Ok((200, body)) => {
                let e = &body["data"];
                entreprise["adresse_etablissement"] = address_of(e);
                if siege == siret || siege.is_empty() {
                    entreprise["adresse_siege"] = address_of(e);
                }
                if e["etat_administratif"] == "F" {
                    findings.push(Finding {
                        level: "rejet".into(),
                        message: "Cet établissement est fermé (répertoire Sirene).".into(),
                    });
                }
            }
            other => {
                let p = unavailable("etablissement_insee", "INSEE", other);
                if p.status == "introuvable" {
                    findings.push(Finding {
                        level: "rejet".into(),
                        message: "SIRET inconnu du répertoire Sirene.".into(),
                    });
                }
                pieces.push(p);
            }
        }
        if !siege.is_empty() && siege != siret {
            match hub_get(
                m,
                &format!("/v4/insee/sirene/etablissements/{siege}"),
                tender,
            )
            .await
            {
                Ok((200, s)) => entreprise["adresse_siege"] = address_of(&s["data"]),
                other => pieces.push(unavailable("siege_social", "INSEE", other)),
            }
        }
    }
    // Infogreffe: RCS extract and officers.
    match hub_get(
        m,
        &format!("/v3/infogreffe/rcs/unites_legales/{siren}/extrait_kbis"),
        tender,
    )
    .await
    {
        Ok((200, body)) => {
            let k = &body["data"];
            let officers: Vec<Value> = k["mandataires_sociaux"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| {
                    json!({
                        "nom": o["nom"].as_str().or(o["raison_sociale"].as_str()).unwrap_or(""),
                        "prenom": o["prenom"],
                        "fonction": o["fonction"],
                    })
                })
                .collect();
            entreprise["rcs"] = json!({
                "greffe": k["greffe"]["valeur"],
                "date_immatriculation": k["date_immatriculation"],
                "capital": k["capital"]["montant"],
                "mandataires_sociaux": officers,
            });
            if entreprise.get("raison_sociale").is_none() {
                entreprise["raison_sociale"] = k["personne_morale"]["denomination"].clone();
            }
            if !k["date_radiation"].is_null() {
                findings.push(Finding {
                    level: "rejet".into(),
                    message: format!(
                        "L'entreprise est radiée du RCS depuis le {}.",
                        k["date_radiation"].as_str().unwrap_or("?")
                    ),
                });
            }
            let applicant = (
                norm(user.userinfo["family_name"].as_str().unwrap_or("")),
                norm(
                    user.userinfo["given_name"]
                        .as_str()
                        .unwrap_or("")
                        .split(' ')
                        .next()
                        .unwrap_or(""),
                ),
            );
            let is_officer = m.core.defects.has(Defect::MarcheSkipsOfficerCheck)
                || officers.iter().any(|o| {
                    norm(o["nom"].as_str().unwrap_or("")) == applicant.0
                        && norm(
                            o["prenom"]
                                .as_str()
                                .unwrap_or("")
                                .split(' ')
                                .next()
                                .unwrap_or(""),
                        ) == applicant.1
                });
            app.applicant["mandataire_social"] = json!(is_officer);
            if !is_officer {
                findings.push(Finding {
                    level: "a_verifier".into(),
                    message: format!(
                        "{} n'apparaît pas parmi les mandataires sociaux : l'acheteur vérifiera son pouvoir d'engager l'entreprise.",
                        user.display_name()
                    ),
                });
            }
            pieces.push(Piece {
                valid_from: k["date_extrait"].as_str().map(String::from),
                ..piece(
                    "extrait_rcs",
                    "obtenue",
                    "Infogreffe",
                    "Extrait d'immatriculation au RCS",
                )
            });
        }
        Ok((404, body)) => {
            let (code, detail) = error_of(&body);
            pieces.push(Piece {
                code,
                ..piece(
                    "extrait_rcs",
                    "non_applicable",
                    "Infogreffe",
                    format!("Pas d'immatriculation au RCS ({detail})"),
                )
            });
        }
        other => pieces.push(unavailable("extrait_rcs", "Infogreffe", other)),
    }
    // URSSAF: attestation de vigilance.
    match hub_get(
        m,
        &format!("/v4/urssaf/unites_legales/{siren}/attestation_vigilance"),
        tender,
    )
    .await
    {
        Ok((200, body)) => {
            let d = &body["data"];
            let refused = d["entity_status"]["code"] != "ok"
                && !m.core.defects.has(Defect::MarcheAcceptsRefusedVigilance);
            if refused {
                findings.push(Finding {
                    level: "rejet".into(),
                    message: format!(
                        "Attestation de vigilance refusée par l'Urssaf : {}",
                        d["entity_status"]["description"].as_str().unwrap_or("")
                    ),
                });
            }
            pieces.push(Piece {
                document_url: d["document_url"].as_str().map(String::from),
                valid_from: d["date_debut_validite"].as_str().map(String::from),
                valid_until: d["date_fin_validite"].as_str().map(String::from),
                ..piece(
                    "attestation_vigilance",
                    if refused { "refusee" } else { "obtenue" },
                    "URSSAF",
                    d["entity_status"]["libelle"].as_str().unwrap_or(""),
                )
            });
        }
        Ok((502, body)) if error_of(&body).0.as_deref() == Some("04501") => {
            findings.push(Finding {
                level: "a_verifier".into(),
                message: "L'Urssaf analyse la situation de l'entreprise : l'attestation sera disponible sous deux jours (actualisez la candidature).".into(),
            });
            pieces.push(unavailable(
                "attestation_vigilance",
                "URSSAF",
                Ok((502, body)),
            ));
        }
        Ok((404, body)) => {
            findings.push(Finding {
                level: "a_verifier".into(),
                message: "Entreprise hors du périmètre de l'Urssaf (autre organisme de recouvrement) : l'attestation de vigilance est à fournir par l'entreprise.".into(),
            });
            pieces.push(unavailable(
                "attestation_vigilance",
                "URSSAF",
                Ok((404, body)),
            ));
        }
        other => pieces.push(unavailable("attestation_vigilance", "URSSAF", other)),
    }
    // DGFiP: attestation de régularité fiscale.
    match hub_get(
        m,
        &format!("/v4/dgfip/unites_legales/{siren}/attestation_fiscale"),
        tender,
    )
    .await
    {
        Ok((200, body)) => {
            let d = &body["data"];
            pieces.push(Piece {
                document_url: d["document_url"].as_str().map(String::from),
                valid_from: d["date_delivrance_attestation"].as_str().map(String::from),
                ..piece(
                    "attestation_fiscale",
                    "obtenue",
                    "DGFiP",
                    "Attestation de régularité fiscale",
                )
            });
        }
        Ok((404, body)) if error_of(&body).0.as_deref() == Some("03003") => {
            let (code, detail) = error_of(&body);
            findings.push(Finding {
                level: "rejet".into(),
                message: format!("Attestation fiscale refusée par la DGFiP : {detail}"),
            });
            pieces.push(Piece {
                code,
                ..piece("attestation_fiscale", "refusee", "DGFiP", detail)
            });
        }
        other => pieces.push(unavailable("attestation_fiscale", "DGFiP", other)),
    }
    // MSA: only for agricultural employers.
    if m.msa_divisions.iter().any(|d| naf.starts_with(d.as_str())) {
        match hub_get(
            m,
            &format!("/v3/msa/etablissements/{siret}/conformite_cotisations"),
            tender,
        )
        .await
        {
            Ok((200, body)) => {
                let status = body["data"]["status"].as_str().unwrap_or("");
                let ok = status == "up_to_date";
                if !ok {
                    findings.push(Finding {
                        level: if status == "outdated" {
                            "rejet"
                        } else {
                            "a_verifier"
                        }
                        .into(),
                        message: format!("Cotisations MSA : {status}"),
                    });
                }
                pieces.push(piece(
                    "conformite_msa",
                    if ok { "obtenue" } else { "refusee" },
                    "MSA",
                    format!("Conformité des cotisations : {status}"),
                ));
            }
            other => pieces.push(unavailable("conformite_msa", "MSA", other)),
        }
    } else {
        pieces.push(piece(
            "conformite_msa",
            "non_applicable",
            "MSA",
            "Activité non agricole : la MSA n'est pas interrogée",
        ));
    }
    for p in &pieces {
        // A certificate the hub could not find: the company will have to provide it.
        if p.status == "introuvable"
            && matches!(
                p.kind.as_str(),
                "attestation_fiscale" | "conformite_msa" | "siege_social"
            )
        {
            findings.push(Finding {
                level: "a_verifier".into(),
                message: format!(
                    "Pièce « {} » introuvable auprès de {} ({}) : l'entreprise la fournira.",
                    p.kind, p.source, p.detail
                ),
            });
        }
        if p.status == "indisponible" && p.code.as_deref() != Some("04501") {
            findings.push(Finding {
                level: "indisponible".into(),
                message: format!(
                    "{} ne répond pas ({}) : votre candidature est enregistrée ; actualisez-la plus tard pour obtenir la pièce « {} ».",
                    p.source, p.detail, p.kind
                ),
            });
        }
    }
    app.status = if findings.iter().any(|f| f.level == "rejet") {
        Status::Rejetee
    } else if findings.iter().any(|f| f.level == "indisponible") {
        Status::Incomplete
    } else if findings.iter().any(|f| f.level == "a_verifier") {
        Status::AVerifier
    } else {
        Status::Complete
    };
    app.entreprise = entreprise;
    app.pieces = pieces;
    app.findings = findings;
    app.attempts += 1;
    app.updated_at = m.core.clock.now().to_rfc3339();
}

/// Upper case, accents and punctuation dropped: names as registries compare them.
fn norm(s: &str) -> String {
    deunicode::deunicode(s)
        .to_uppercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

fn applicant_json(u: &SignedIn) -> Value {
    json!({
        "sub": u.sub,
        "acr": u.acr,
        "given_name": u.userinfo["given_name"],
        "family_name": u.userinfo["family_name"],
        "birthdate": u.userinfo["birthdate"],
        "email": u.userinfo["email"],
    })
}

/// Validates, creates, fetches and stores an application.
async fn apply(
    m: &Marche,
    reference: &str,
    siret: &str,
    user: &SignedIn,
) -> Result<Application, Response> {
    let Some(tender) = m.tenders.get(reference) else {
        return Err(problem(
            StatusCode::NOT_FOUND,
            "unknown-tender",
            "Appel d'offres inconnu",
            &format!("no tender {reference:?}"),
        ));
    };
    let siret: String = siret.chars().filter(|c| !c.is_whitespace()).collect();
    if !ids::is_valid_siret(&siret) {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-siret",
            "SIRET invalide",
            "a SIRET is 14 digits with a valid check digit (Luhn; La Poste's own rule)",
        ));
    }
    if tender.deadline < m.core.clock.now().date_naive() {
        return Err(problem(
            StatusCode::CONFLICT,
            "tender-closed",
            "Appel d'offres clos",
            &format!("applications closed on {}", tender.deadline),
        ));
    }
    let now = m.core.clock.now().to_rfc3339();
    let mut app = Application {
        id: format!("{}-{}", tender.reference, &crate::http::random_token()[..8]),
        tender: tender.reference.clone(),
        siret,
        status: Status::Incomplete,
        applicant: applicant_json(user),
        entreprise: Value::Null,
        pieces: Vec::new(),
        findings: Vec::new(),
        created_at: now.clone(),
        updated_at: now,
        attempts: 0,
    };
    // Stored before any provider is asked: a crash or an outage never loses what was submitted.
    store(m, &app)?;
    assemble(m, &mut app, &tender, user).await;
    store(m, &app)?;
    Ok(app)
}

fn store(m: &Marche, app: &Application) -> Result<(), Response> {
    m.applications.put(&app.id, app.clone()).map_err(|e| {
        problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage",
            "Enregistrement impossible",
            &e,
        )
    })
}

/// The applicant's own application, or a 404 (an application is not shown to others).
fn own_application(m: &Marche, id: &str, user: &SignedIn) -> Option<Application> {
    m.applications
        .get(id)
        .filter(|a| a.applicant["sub"].as_str() == Some(&user.sub))
}

async fn refresh(m: &Marche, id: &str, user: &SignedIn) -> Result<Application, Response> {
    let Some(mut app) = own_application(m, id, user) else {
        return Err(unknown_application(id));
    };
    let Some(tender) = m.tenders.get(&app.tender) else {
        return Err(problem(
            StatusCode::GONE,
            "tender-withdrawn",
            "Appel d'offres retiré",
            &app.tender,
        ));
    };
    assemble(m, &mut app, &tender, user).await;
    store(m, &app)?;
    Ok(app)
}

fn unknown_application(id: &str) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "unknown-application",
        "Candidature inconnue",
        &format!("no application {id:?} of yours"),
    )
}

// --- JSON API -------------------------------------------------------------------------------

fn signed_in(m: &Marche, headers: &HeaderMap) -> Result<SignedIn, Response> {
    m.sessions.require(headers, "/connexion")
}

async fn api_session(State(m): State<Marche>, headers: HeaderMap) -> Response {
    super::session_json(&m.sessions, &headers, "/connexion")
}

async fn api_tenders(State(m): State<Marche>) -> Response {
    json_response(StatusCode::OK, &json!({"appels_d_offres": m.tenders.all()}))
}

async fn api_tender(State(m): State<Marche>, Path(reference): Path<String>) -> Response {
    match m.tenders.get(&reference) {
        Some(t) => json_response(StatusCode::OK, &json!(t)),
        None => problem(
            StatusCode::NOT_FOUND,
            "unknown-tender",
            "Appel d'offres inconnu",
            &format!("no tender {reference:?}"),
        ),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTender {
    reference: String,
    title: String,
    #[serde(default)]
    description: String,
    /// The buyer's SIRET.
    acheteur: String,
    deadline: NaiveDate,
}

fn publish(m: &Marche, t: NewTender) -> Result<Tender, Response> {
    let reference = t.reference.trim().to_string();
    if reference.is_empty()
        || reference.len() > 40
        || !reference
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-reference",
            "Référence invalide",
            "1 to 40 letters, digits, '-' or '_'",
        ));
    }
    if t.title.trim().is_empty() {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-title",
            "Intitulé manquant",
            "give the tender a title",
        ));
    }
    if !ids::is_valid_siret(&t.acheteur) {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-siret",
            "SIRET de l'acheteur invalide",
            "the buyer's SIRET (recipient of every API Entreprise call) must be valid",
        ));
    }
    let buyer_name = m
        .core
        .population
        .establishment_by_siret(&t.acheteur)
        .map(|(c, _)| c.name.clone())
        .unwrap_or_else(|| t.acheteur.clone());
    let tender = Tender {
        reference: reference.clone(),
        title: t.title.trim().to_string(),
        description: t.description,
        buyer_siret: t.acheteur,
        buyer_name,
        deadline: t.deadline,
    };
    match m.tenders.insert_new(&reference, tender.clone()) {
        Ok(true) => Ok(tender),
        Ok(false) => Err(problem(
            StatusCode::CONFLICT,
            "duplicate-tender",
            "Référence déjà publiée",
            &format!("a tender {reference:?} exists"),
        )),
        Err(e) => Err(problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage",
            "Enregistrement impossible",
            &e,
        )),
    }
}

async fn api_publish(State(m): State<Marche>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = signed_in(&m, &headers) {
        return e;
    }
    let t: NewTender = match super::json_body(&headers, &body) {
        Ok(t) => t,
        Err(e) => return e,
    };
    match publish(&m, t) {
        Ok(t) => json_response(StatusCode::CREATED, &json!(t)),
        Err(e) => e,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewApplication {
    siret: String,
}

async fn api_apply(
    State(m): State<Marche>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let user = match signed_in(&m, &headers) {
        Ok(u) => u,
        Err(e) => return e,
    };
    let a: NewApplication = match super::json_body(&headers, &body) {
        Ok(a) => a,
        Err(e) => return e,
    };
    match apply(&m, &reference, &a.siret, &user).await {
        Ok(app) => with_subject(
            json_response(StatusCode::CREATED, &json!(app)),
            app.siret.clone(),
        ),
        Err(e) => e,
    }
}

async fn api_application(
    State(m): State<Marche>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let user = match signed_in(&m, &headers) {
        Ok(u) => u,
        Err(e) => return e,
    };
    match own_application(&m, &id, &user) {
        Some(a) => json_response(StatusCode::OK, &json!(a)),
        None => unknown_application(&id),
    }
}

async fn api_refresh(
    State(m): State<Marche>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let user = match signed_in(&m, &headers) {
        Ok(u) => u,
        Err(e) => return e,
    };
    match refresh(&m, &id, &user).await {
        Ok(a) => json_response(StatusCode::OK, &json!(a)),
        Err(e) => e,
    }
}

// --- Pages ----------------------------------------------------------------------------------

fn error_page(m: &Marche, status: StatusCode, user: Option<&SignedIn>, message: &str) -> Response {
    page(
        status,
        m.title,
        user,
        &format!(
            r#"<h1>Une erreur est survenue</h1><div class="notice ko" id="error">{}</div><p><a href="/">Retour aux appels d'offres</a></p>"#,
            escape(message)
        ),
    )
}

fn fc_button(return_to: &str) -> String {
    format!(
        r#"<p><a class="button fc-button" id="franceconnect" href="/connexion?retour={}">S'identifier avec FranceConnect<small>Qu'est-ce que FranceConnect ?</small></a></p>"#,
        escape(&urlencode(return_to))
    )
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e[1..].to_string())
        .unwrap_or_default()
}

async fn home(State(m): State<Marche>, headers: HeaderMap) -> Response {
    let user = m.sessions.user(&headers);
    let rows: String = m
        .tenders
        .all()
        .iter()
        .map(|t| {
            format!(
                r#"<tr><td><a href="/appels-d-offres/{r}"><code>{r}</code></a></td><td>{title}</td><td>{buyer}</td><td>{deadline}</td></tr>"#,
                r = escape(&t.reference),
                title = escape(&t.title),
                buyer = escape(&t.buyer_name),
                deadline = t.deadline.format("%d/%m/%Y"),
            )
        })
        .collect();
    let intro = if user.is_some() {
        String::new()
    } else {
        fc_button("/")
    };
    page(
        StatusCode::OK,
        m.title,
        user.as_ref(),
        &format!(
            r#"<h1>Appels d'offres en cours</h1>
<p>Candidatez avec votre seul numéro SIRET : la plateforme récupère vos informations et vos attestations auprès des administrations (API Entreprise). <em>Dites-le nous une fois.</em></p>{intro}
<table id="tenders"><thead><tr><th>Référence</th><th>Objet</th><th>Acheteur</th><th>Date limite</th></tr></thead><tbody>{rows}</tbody></table>
<p class="muted">Acheteur public ? <a href="/acheteur">Publier un appel d'offres</a>. API JSON : <a href="/openapi.json">openapi.json</a>.</p>"#
        ),
    )
}

async fn tender_page(
    State(m): State<Marche>,
    Path(reference): Path<String>,
    headers: HeaderMap,
) -> Response {
    let user = m.sessions.user(&headers);
    let Some(t) = m.tenders.get(&reference) else {
        return error_page(
            &m,
            StatusCode::NOT_FOUND,
            user.as_ref(),
            "Appel d'offres inconnu.",
        );
    };
    let action = match &user {
        Some(_) => format!(
            r#"<h2>Candidater</h2><form method="post" action="/appels-d-offres/{r}/candidater" id="apply-form">
<label for="siret">Numéro SIRET de votre établissement</label><input id="siret" name="siret" inputmode="numeric" placeholder="14 chiffres" required>
<p class="muted">C'est tout : identité, extrait RCS, attestations de vigilance et fiscale sont récupérés pour vous.</p>
<button type="submit">Déposer ma candidature</button></form>"#,
            r = escape(&t.reference)
        ),
        None => format!(
            "<h2>Candidater</h2><p>Identifiez-vous pour candidater.</p>{}",
            fc_button(&format!("/appels-d-offres/{}", t.reference))
        ),
    };
    page(
        StatusCode::OK,
        m.title,
        user.as_ref(),
        &format!(
            r#"<p><a href="/">← Appels d'offres</a></p><h1>{title}</h1>
<table><tr><th>Référence</th><td><code>{r}</code></td></tr><tr><th>Acheteur</th><td>{buyer} <span class="muted">(SIRET {siret})</span></td></tr><tr><th>Date limite</th><td>{deadline}</td></tr><tr><th>Description</th><td>{desc}</td></tr></table>{action}"#,
            title = escape(&t.title),
            r = escape(&t.reference),
            buyer = escape(&t.buyer_name),
            siret = escape(&t.buyer_siret),
            deadline = t.deadline.format("%d/%m/%Y"),
            desc = escape(&t.description),
        ),
    )
}

async fn apply_form(
    State(m): State<Marche>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(user) = m.sessions.user(&headers) else {
        return see_other(&format!("/appels-d-offres/{}", urlencode(&reference)), None);
    };
    let siret = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
        .ok()
        .and_then(|f| f.into_iter().find(|(k, _)| k == "siret").map(|(_, v)| v))
        .unwrap_or_default();
    match apply(&m, &reference, &siret, &user).await {
        Ok(app) => with_subject(
            see_other(&format!("/candidatures/{}", app.id), None),
            app.siret,
        ),
        Err(e) => problem_page(&m, &user, e).await,
    }
}

/// A JSON API problem shown as a page.
async fn problem_page(m: &Marche, user: &SignedIn, e: Response) -> Response {
    let (status, text) = super::problem_text(e).await;
    error_page(m, status, Some(user), &text)
}

async fn refresh_form(
    State(m): State<Marche>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(user) = m.sessions.user(&headers) else {
        return see_other("/", None);
    };
    match refresh(&m, &id, &user).await {
        Ok(app) => see_other(&format!("/candidatures/{}", app.id), None),
        Err(e) => problem_page(&m, &user, e).await,
    }
}

fn badge(status: &str) -> String {
    let (class, label) = match status {
        "obtenue" | "complete" => ("ok", status),
        "refusee" | "rejetee" | "rejet" | "introuvable" => ("ko", status),
        "non_applicable" => ("info", "non applicable"),
        "a_verifier" => ("warn", "à vérifier"),
        _ => ("warn", status),
    };
    format!(r#"<span class="badge {class}">{}</span>"#, escape(label))
}

async fn application_page(
    State(m): State<Marche>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(user) = m.sessions.user(&headers) else {
        return see_other(
            &format!("/connexion?retour=/candidatures/{}", urlencode(&id)),
            None,
        );
    };
    let Some(a) = own_application(&m, &id, &user) else {
        return error_page(
            &m,
            StatusCode::NOT_FOUND,
            Some(&user),
            "Candidature inconnue.",
        );
    };
    let status = serde_json::to_value(a.status)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let e = &a.entreprise;
    let field = |label: &str, v: &Value| {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Null => "—".into(),
            other => other.to_string(),
        };
        format!("<tr><th>{label}</th><td>{}</td></tr>", escape(&text))
    };
    let officers: String = e["rcs"]["mandataires_sociaux"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            format!(
                "{} {} ({})",
                o["prenom"].as_str().unwrap_or(""),
                o["nom"].as_str().unwrap_or(""),
                o["fonction"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let fields = [
        field("Raison sociale", &e["raison_sociale"]),
        field("SIRET", &e["siret"]),
        field("Forme juridique", &e["forme_juridique"]),
        field("Activité principale", &e["activite_principale"]),
        field("Effectif", &e["tranche_effectif"]),
        field("Siège social", &e["adresse_siege"]),
        field("Établissement", &e["adresse_etablissement"]),
        field("Greffe", &e["rcs"]["greffe"]),
        field("Mandataires sociaux", &json!(officers)),
    ]
    .concat();
    let pieces: String = a
        .pieces
        .iter()
        .map(|p| {
            let doc = p
                .document_url
                .as_ref()
                .map(|u| format!(r#" — <a href="{}">document</a>"#, escape(u)))
                .unwrap_or_default();
            let validity = match (&p.valid_from, &p.valid_until) {
                (Some(f), Some(u)) => format!(" <span class=\"muted\">(du {f} au {u})</span>"),
                (Some(f), None) => format!(" <span class=\"muted\">({f})</span>"),
                _ => String::new(),
            };
            format!(
                r#"<tr data-piece="{k}"><td>{k}</td><td>{src}</td><td>{b}</td><td>{d}{validity}{doc}</td></tr>"#,
                k = escape(&p.kind),
                src = escape(&p.source),
                b = badge(&p.status),
                d = escape(&p.detail),
            )
        })
        .collect();
    let findings: String = a
        .findings
        .iter()
        .map(|f| {
            let class = match f.level.as_str() {
                "rejet" => "ko",
                _ => "warn",
            };
            format!(
                r#"<div class="notice {class}" data-finding="{}">{}</div>"#,
                escape(&f.level),
                escape(&f.message)
            )
        })
        .collect();
    let headline = match a.status {
        Status::Complete => {
            r#"<div class="notice ok">Candidature complète : toutes les pièces ont été obtenues auprès des administrations.</div>"#
        }
        Status::AVerifier => {
            r#"<div class="notice warn">Candidature déposée, à vérifier par l'acheteur.</div>"#
        }
        Status::Rejetee => r#"<div class="notice ko">Candidature irrecevable en l'état.</div>"#,
        Status::Incomplete => {
            r#"<div class="notice warn">Candidature enregistrée mais incomplète : un service ne répond pas. Rien n'est perdu ; actualisez plus tard.</div>"#
        }
    };
    page(
        StatusCode::OK,
        m.title,
        Some(&user),
        &format!(
            r#"<p><a href="/appels-d-offres/{t}">← {t}</a></p><h1>Candidature <code>{id}</code> {badge}</h1>{headline}{findings}
<h2>Entreprise (pré-remplie)</h2><table id="prefilled">{fields}</table>
<h2>Pièces jointes</h2><table id="pieces"><thead><tr><th>Pièce</th><th>Source</th><th>État</th><th>Détail</th></tr></thead><tbody>{pieces}</tbody></table>
<p class="muted">Déposée par {who} le {created} ; {attempts} collecte(s). Chaque appel à API Entreprise porte context={ctx}, object={t}, recipient=SIRET de l'acheteur.</p>
<form method="post" action="/candidatures/{id}/actualiser"><button class="secondary" id="refresh">Actualiser les pièces</button></form>"#,
            t = escape(&a.tender),
            id = escape(&a.id),
            badge = badge(&status),
            who = escape(&user.display_name()),
            created = escape(&a.created_at[..16.min(a.created_at.len())]),
            attempts = a.attempts,
            ctx = escape(&m.context),
        ),
    )
}

async fn buyer_page(State(m): State<Marche>, headers: HeaderMap) -> Response {
    let user = m.sessions.user(&headers);
    let Some(u) = &user else {
        return page(
            StatusCode::OK,
            m.title,
            None,
            &format!(
                "<h1>Publier un appel d'offres</h1><p>Identifiez-vous pour publier.</p>{}",
                fc_button("/acheteur")
            ),
        );
    };
    let buyer = m
        .initial_tenders
        .first()
        .map(|t| t.buyer_siret.clone())
        .unwrap_or_default();
    page(
        StatusCode::OK,
        m.title,
        Some(u),
        &format!(
            r#"<h1>Publier un appel d'offres</h1><form method="post" action="/acheteur" id="publish-form">
<label for="reference">Référence</label><input id="reference" name="reference" required>
<label for="title">Objet</label><input id="title" name="title" required>
<label for="description">Description</label><input id="description" name="description">
<label for="acheteur">SIRET de l'acheteur</label><input id="acheteur" name="acheteur" value="{buyer}" required>
<label for="deadline">Date limite</label><input id="deadline" name="deadline" type="date" required>
<p><button type="submit">Publier</button></p></form>"#,
            buyer = escape(&buyer)
        ),
    )
}

async fn publish_form(State(m): State<Marche>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(user) = m.sessions.user(&headers) else {
        return see_other("/acheteur", None);
    };
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let Ok(deadline) = NaiveDate::parse_from_str(&get("deadline"), "%Y-%m-%d") else {
        return error_page(
            &m,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&user),
            "Date limite invalide (AAAA-MM-JJ).",
        );
    };
    let t = NewTender {
        reference: get("reference"),
        title: get("title"),
        description: get("description"),
        acheteur: get("acheteur"),
        deadline,
    };
    match publish(&m, t) {
        Ok(t) => see_other(&format!("/appels-d-offres/{}", t.reference), None),
        Err(e) => problem_page(&m, &user, e).await,
    }
}

// --- OpenAPI --------------------------------------------------------------------------------

fn openapi(base_url: &str, _p: &Population) -> Value {
    let problem_ref =
        json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
    let err = |d: &str| json!({"description": d, "content": problem_ref.clone()});
    let ok = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"type": "object"}}}});
    let reference = json!({"name": "reference", "in": "path", "required": true, "schema": {"type": "string"}, "example": "2026-VIN-0042"});
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "example": "2026-VIN-0042-00000000"});
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Marché Public Simplifié (démo) — API", "version": "1.0.0",
                 "description": "The demo marketplace's JSON API. Sign in with FranceConnect first (GET /connexion in a browser, or a virtual citizen): the session cookie authenticates the calls that need it. Errors are RFC 9457 problem details."},
        "servers": [{"url": base_url}],
        "paths": {
            "/api/session": {"get": {"operationId": "session", "summary": "Who is signed in (the identity FranceConnect passed)", "responses": {"200": ok("signed in"), "401": err("not signed in")}}},
            "/api/appels-d-offres": {
                "get": {"operationId": "listTenders", "summary": "Published tenders", "responses": {"200": ok("tenders")}},
                "post": {"operationId": "publishTender", "summary": "Publish a tender (buyer)", "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["reference", "title", "acheteur", "deadline"]}}}},
                         "responses": {"201": ok("published"), "400": err("bad body"), "401": err("not signed in"), "409": err("reference exists"), "415": err("not JSON"), "422": err("invalid field")}}},
            "/api/appels-d-offres/{reference}": {"get": {"operationId": "tender", "parameters": [reference.clone()], "responses": {"200": ok("tender"), "404": err("unknown")}}},
            "/api/appels-d-offres/{reference}/candidatures": {"post": {"operationId": "apply", "summary": "Apply with a SIRET only: the marketplace fetches the rest through API Entreprise", "parameters": [reference],
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["siret"], "properties": {"siret": {"type": "string"}}}}}},
                "responses": {"201": ok("the application, pre-filled, with its pieces and status (complete, a_verifier, rejetee, incomplete)"), "400": err("bad body"), "401": err("not signed in"), "404": err("unknown tender"), "409": err("tender closed"), "415": err("not JSON"), "422": err("invalid SIRET")}}},
            "/api/candidatures/{id}": {"get": {"operationId": "application", "parameters": [id.clone()], "responses": {"200": ok("application"), "401": err("not signed in"), "404": err("unknown")}}},
            "/api/candidatures/{id}/actualiser": {"post": {"operationId": "refreshApplication", "summary": "Fetch the pieces again (after an outage)", "parameters": [id], "responses": {"200": ok("application"), "401": err("not signed in"), "404": err("unknown")}}},
        },
        "components": {"schemas": {"Problem": {"type": "object", "required": ["type", "title", "status", "detail"]}}},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_as_registries_do() {
        assert_eq!(norm("Gérôme"), "GEROME");
        assert_eq!(norm("DUPONT-Lefèvre"), "DUPONTLEFEVRE");
    }

    #[test]
    fn redirects_stay_on_the_site() {
        assert_eq!(
            local_path(Some("/candidatures/x".into())),
            "/candidatures/x"
        );
        assert_eq!(local_path(Some("//evil.example".into())), "/");
        assert_eq!(local_path(Some("https://evil.example".into())), "/");
        assert_eq!(local_path(None), "/");
    }
}
