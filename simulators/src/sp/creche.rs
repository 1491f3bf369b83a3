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

use crate::http::trace::Propagate as _;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::psu::{Bareme, Bound, Family, Fee};
use super::{
    FranceConnectClient, Sessions, SignedIn, decimal, euros, oidc, page, problem, see_other,
};
use crate::defects::Defect;
use crate::http::escape;
use crate::http::{PartyApp, PartyCore, Role, json_response, with_subject};
use crate::population::Population;

/// `[sp-creche]` in `scenarios/service_providers.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrecheConfig {
    pub title: String,
    pub france_connect: FranceConnectClient,
    /// The town: `recipient` of API Particulier calls (persona key or SIRET).
    pub recipient: String,
    pub api_particulier: super::HubToken,
    /// The town's client at the DGFiP gateway.
    pub dgfip_client_id: String,
    pub dgfip_client_secret: String,
    /// Contracted hours a year when the parent does not say (230 days × 9 h).
    #[serde(default = "default_hours")]
    pub default_annual_hours: u32,
    pub psu: Bareme,
    pub nurseries: Vec<NurseryConfig>,
}

fn default_hours() -> u32 {
    2070
}

/// How a nursery reads the family's figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataPath {
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
pub struct NurseryConfig {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub address: String,
    pub data_path: DataPath,
    /// The legal basis shown (and recorded) when the agent reads data without the parent
    /// signed in.
    #[serde(default)]
    pub legal_basis: String,
}

#[derive(Clone)]
struct Creche {
    core: PartyCore,
    title: &'static str,
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
pub struct Resolved {
    pub own_url: String,
    pub broker_url: String,
    pub hub_url: String,
    pub hub_jwt: String,
    pub dgfip_url: String,
}

/// The nursery party.
pub fn app(
    population: Arc<Population>,
    cfg: &CrecheConfig,
    r: Resolved,
) -> Result<PartyApp, String> {
    let core = PartyCore::new("sp-creche", population.clone());
    let recipient = super::resolve_siret(&population, &cfg.recipient)
        .ok_or_else(|| format!("sp-creche: unknown recipient {:?}", cfg.recipient))?;
    if cfg.nurseries.is_empty() {
        return Err("sp-creche: configure at least one nursery".into());
    }
    let title: &'static str = Box::leak(cfg.title.clone().into_boxed_str());
    let c = Creche {
        core: core.clone(),
        title,
        rp: oidc::RelyingParty::new(
            &r.broker_url,
            &cfg.france_connect.client_id,
            &cfg.france_connect.client_secret,
            &r.own_url,
            &cfg.france_connect.acr,
        ),
        sessions: Sessions::default(),
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
    let router = Router::new()
        .route("/", get(home))
        .route("/connexion", get(sign_in))
        .route("/oidc-callback", get(callback))
        .route("/deconnexion", post(sign_out))
        .route("/creches/{id}", get(nursery_page))
        .route("/creches/{id}/estimation", post(estimate_form))
        .route(
            "/creches/{id}/guichet",
            get(counter_page).post(counter_form),
        )
        .route("/api/session", get(api_session))
        .route("/api/creches", get(api_nurseries))
        .route("/api/bareme", get(api_bareme))
        .route("/api/creches/{id}/estimation", post(api_estimate))
        .route("/api/creches/{id}/guichet", post(api_counter))
        .fallback(super::not_found)
        .method_not_allowed_fallback(super::method_not_allowed)
        .with_state(c.clone());
    let reset = c.clone();
    Ok(PartyApp {
        core,
        role: Role::Sp,
        title,
        router,
        openapi,
        reset: Arc::new(move || reset.sessions.clear()),
        control: None,
    })
}

// --- The computation ------------------------------------------------------------------------

/// An explained outcome.
#[derive(Clone, Debug, Serialize)]
struct Estimate {
    creche: String,
    voie: DataPath,
    /// `tarif_calcule`, `sans_dossier_caf_msa`, `identite_non_trouvee`, `service_indisponible`,
    /// `donnees_incompletes`.
    issue: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tarif_horaire: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    facture_mensuelle: Option<String>,
    heures_annuelles: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    calcul: Option<Value>,
    explications: Vec<String>,
    /// Which party answered, and the top-level fields it sent (data minimisation, visible).
    donnees_recues: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    identite: Option<Value>,
}

impl Estimate {
    fn outcome(n: &NurseryConfig, hours: u32, issue: &'static str, message: String) -> Self {
        Estimate {
            creche: n.id.clone(),
            voie: n.data_path,
            issue,
            message,
            tarif_horaire: None,
            facture_mensuelle: None,
            heures_annuelles: hours,
            calcul: None,
            explications: Vec::new(),
            donnees_recues: Value::Null,
            identite: None,
        }
    }
}

fn received(party: &str, data: &Value) -> Value {
    let fields: Vec<&String> = data
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    json!({"fournisseur": party, "champs": fields})
}

/// The fee for `family` and the sentences that explain it.
fn priced(
    c: &Creche,
    n: &NurseryConfig,
    hours: u32,
    family: Family,
    resources_year: Option<i64>,
    source: &str,
) -> Estimate {
    let today = c.core.clock.now().date_naive();
    let mut family = family;
    if c.core.defects.has(Defect::CrecheIgnoresAeeh) {
        family.aeeh_children = 0;
    }
    let floorless;
    let bareme = if c.core.defects.has(Defect::CrecheIgnoresFloor) {
        let mut b = (*c.bareme).clone();
        for p in &mut b.planchers {
            p.monthly = 0.0;
        }
        floorless = b;
        &floorless
    } else {
        &*c.bareme
    };
    let Some(fee) = bareme.compute(&family, hours, today) else {
        return Estimate::outcome(
            n,
            hours,
            "donnees_incompletes",
            format!("Le barème configuré ne couvre pas la date du {today}."),
        );
    };
    let mut e = Estimate::outcome(
        n,
        hours,
        "tarif_calcule",
        format!(
            "Tarif horaire : {} ; facture mensuelle : {}.",
            euros(fee.hourly_cents),
            euros(fee.monthly_bill_cents)
        ),
    );
    e.explications = explain(&fee, source, resources_year);
    e.tarif_horaire = Some(decimal(fee.hourly_cents));
    e.facture_mensuelle = Some(decimal(fee.monthly_bill_cents));
    e.calcul = Some(json!({
        "ressources_annuelles": decimal(family.annual_resources_cents),
        "annee_ressources": resources_year,
        "ressources_mensuelles": decimal(fee.monthly_resources_cents),
        "plancher": decimal(fee.plancher_cents),
        "plafond": decimal(fee.plafond_cents),
        "borne": fee.bound,
        "ressources_retenues": decimal(fee.retained_resources_cents),
        "enfants_a_charge": fee.children,
        "enfants_aeeh": fee.aeeh_children,
        "ligne_bareme": fee.rate_row,
        "taux_effort": fee.taux_effort_percent(),
        "date_bareme": fee.date,
    }));
    e
}

fn explain(fee: &Fee, source: &str, year: Option<i64>) -> Vec<String> {
    let mut out = vec![format!(
        "Ressources {}{} : {} par mois (ressources annuelles ÷ 12).",
        source,
        year.map(|y| format!(" de {y}")).unwrap_or_default(),
        euros(fee.monthly_resources_cents)
    )];
    out.push(match fee.bound {
        Bound::Plancher => format!(
            "Elles sont inférieures au plancher ({}) : le plancher s'applique.",
            euros(fee.plancher_cents)
        ),
        Bound::Plafond => format!(
            "Elles dépassent le plafond ({}) : le plafond s'applique.",
            euros(fee.plafond_cents)
        ),
        Bound::None => format!(
            "Elles sont entre le plancher ({}) et le plafond ({}).",
            euros(fee.plancher_cents),
            euros(fee.plafond_cents)
        ),
    });
    if fee.aeeh_children > 0 {
        out.push(format!(
            "{} enfant(s) à charge, dont {} bénéficiaire(s) de l'AEEH : le taux d'effort applicable est celui d'une famille de {} enfants.",
            fee.children, fee.aeeh_children, fee.rate_row
        ));
    } else {
        out.push(format!("{} enfant(s) à charge.", fee.children));
    }
    out.push(format!(
        "Taux d'effort horaire : {} → {} de l'heure.",
        fee.taux_effort_percent(),
        euros(fee.hourly_cents)
    ));
    out.push(format!(
        "Mensualisation : {} × {} heures par an ÷ 12 = {} par mois.",
        euros(fee.hourly_cents),
        fee.annual_hours,
        euros(fee.monthly_bill_cents)
    ));
    out
}

/// API Particulier's EAJE parameters, by FranceConnect token or by identity pivot.
async fn from_api_particulier(
    c: &Creche,
    n: &NurseryConfig,
    hours: u32,
    request: reqwest::RequestBuilder,
) -> Estimate {
    let answer = match request.propagate().send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
        Err(e) => {
            return Estimate::outcome(
                n,
                hours,
                "service_indisponible",
                format!(
                    "API Particulier est injoignable ({e}). Réessayez plus tard, ou transmettez votre avis d'imposition à la crèche."
                ),
            );
        }
    };
    match answer {
        (200, body) => {
            let data = &body["data"];
            let p = &data["parametres_calcul_participation_familiale"];
            let (Some(resources), Some(children)) = (
                p["base_ressources_annuelles"]["valeur"].as_f64(),
                p["nombre_enfants_a_charge"].as_u64(),
            ) else {
                let mut e = Estimate::outcome(
                    n,
                    hours,
                    "donnees_incompletes",
                    "La CAF n'a pas transmis les paramètres de calcul (base ressources, enfants à charge).".into(),
                );
                e.donnees_recues = received("api-particulier", data);
                return e;
            };
            let family = Family {
                annual_resources_cents: (resources * 100.0).round() as i64,
                children: children as u32,
                aeeh_children: p["nombre_enfants_beneficiaire_aeeh"].as_u64().unwrap_or(0) as u32,
            };
            let mut e = priced(
                c,
                n,
                hours,
                family,
                p["base_ressources_annuelles"]["annee_calcul"].as_i64(),
                "retenues par la CAF/MSA",
            );
            e.donnees_recues = received("api-particulier", data);
            e
        }
        (404, body) => {
            let code = body["errors"][0]["code"].as_str().unwrap_or("");
            let mut e = Estimate::outcome(
                n,
                hours,
                "sans_dossier_caf_msa",
                "Aucun dossier CAF ou MSA ne correspond à votre identité. La crèche calculera votre tarif à partir de votre avis d'imposition N-2 (ou du plancher si vous n'avez pas de ressources).".into(),
            );
            e.explications
                .push(format!("API Particulier a répondu 404 (code {code})."));
            e
        }
        (status @ (401 | 403), body) => Estimate::outcome(
            n,
            hours,
            "acces_refuse",
            format!(
                "API Particulier a refusé l'accès ({status}) : {}. Reconnectez-vous avec FranceConnect.",
                body["errors"][0]["detail"].as_str().unwrap_or("")
            ),
        ),
        (422, body) => Estimate::outcome(
            n,
            hours,
            "identite_non_trouvee",
            format!(
                "Identité refusée par API Particulier : {}",
                body["errors"][0]["detail"].as_str().unwrap_or("")
            ),
        ),
        (status, body) => Estimate::outcome(
            n,
            hours,
            "service_indisponible",
            format!(
                "Le service de la CAF/MSA ne répond pas (HTTP {status}{}). Votre demande n'est pas perdue : réessayez plus tard, ou transmettez votre avis d'imposition à la crèche.",
                body["errors"][0]["code"]
                    .as_str()
                    .map(|c| format!(", code {c}"))
                    .unwrap_or_default()
            ),
        ),
    }
}

/// The DGFiP's FranceConnect-mode tax situation (income year N-2).
async fn from_dgfip(
    c: &Creche,
    n: &NurseryConfig,
    hours: u32,
    user: &SignedIn,
    children: u32,
    aeeh: u32,
) -> Estimate {
    let unavailable = |detail: String| {
        Estimate::outcome(
            n,
            hours,
            "service_indisponible",
            format!(
                "Le service des impôts ne répond pas ({detail}). Réessayez plus tard, ou transmettez votre avis d'imposition à la crèche."
            ),
        )
    };
    let token = match c
        .http
        .post(format!("{}/token", c.dgfip_url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", c.dgfip_client.0.as_str()),
            ("client_secret", c.dgfip_client.1.as_str()),
            ("scope", "RessourceIR"),
        ])
        .propagate()
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => r
            .json::<Value>()
            .await
            .ok()
            .and_then(|v| v["access_token"].as_str().map(String::from)),
        Ok(r) => return unavailable(format!("jeton de la passerelle : HTTP {}", r.status())),
        Err(e) => return unavailable(e.to_string()),
    };
    let Some(token) = token else {
        return unavailable("jeton de la passerelle illisible".into());
    };
    // The income of year N-2, as the scale asks.
    let annrev = i64::from(chrono::Datelike::year(&c.core.clock.now().date_naive())) - 2;
    let r = c
        .http
        .get(format!(
            "{}/impotparticulier/1.0/situations/ir/assiettes/annrev/{annrev}",
            c.dgfip_url
        ))
        .bearer_auth(token)
        .header("X-FranceConnect-OAuth", &user.access_token)
        .header("X-Correlation-ID", crate::http::uuid_like())
        .propagate()
        .send()
        .await;
    let (status, body) = match r {
        Ok(r) => (
            r.status().as_u16(),
            r.json::<Value>().await.unwrap_or(Value::Null),
        ),
        Err(e) => return unavailable(e.to_string()),
    };
    match status {
        200 => {
            let Some(rfr) = body["rfr"].as_f64() else {
                let mut e = Estimate::outcome(
                    n,
                    hours,
                    "donnees_incompletes",
                    "La DGFiP n'a pas transmis le revenu fiscal de référence.".into(),
                );
                e.donnees_recues = received("dgfip", &body);
                return e;
            };
            let family = Family {
                annual_resources_cents: (rfr * 100.0).round() as i64,
                children,
                aeeh_children: aeeh,
            };
            let mut e = priced(
                c,
                n,
                hours,
                family,
                Some(annrev),
                "déclarées aux impôts (revenu fiscal de référence)",
            );
            e.donnees_recues = received("dgfip", &body);
            e
        }
        404 => Estimate::outcome(
            n,
            hours,
            "sans_avis_imposition",
            format!(
                "La DGFiP n'a pas de situation fiscale {annrev} pour vous : transmettez vos justificatifs de ressources à la crèche."
            ),
        ),
        401 | 403 => Estimate::outcome(
            n,
            hours,
            "acces_refuse",
            format!(
                "La DGFiP a refusé l'accès ({status}) : {}. Reconnectez-vous avec FranceConnect.",
                body["message"]
                    .as_str()
                    .or(body["erreur"]["message"].as_str())
                    .unwrap_or("")
            ),
        ),
        other => unavailable(format!("HTTP {other}")),
    }
}

fn identity_of(u: &SignedIn) -> Value {
    json!({
        "sub": u.sub, "acr": u.acr,
        "given_name": u.userinfo["given_name"], "family_name": u.userinfo["family_name"],
        "birthdate": u.userinfo["birthdate"], "gender": u.userinfo["gender"],
        "birthplace": u.userinfo["birthplace"], "birthcountry": u.userinfo["birthcountry"],
    })
}

/// What the parent asks for.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EstimateRequest {
    heures_annuelles: Option<u32>,
    /// Declared by the parent on the DGFiP path (the tax situation gives resources only).
    enfants: Option<u32>,
    enfants_aeeh: Option<u32>,
}

fn check_hours(c: &Creche, hours: Option<u32>) -> Result<u32, Response> {
    let h = hours.unwrap_or(c.default_hours);
    if h == 0 || h > 8784 {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-hours",
            "Nombre d'heures invalide",
            "heures_annuelles is between 1 and 8784 (a year's hours)",
        ));
    }
    Ok(h)
}

async fn estimate(
    c: &Creche,
    n: &NurseryConfig,
    user: &SignedIn,
    req: EstimateRequest,
) -> Result<Estimate, Response> {
    let hours = check_hours(c, req.heures_annuelles)?;
    let mut e = match n.data_path {
        DataPath::ApiParticulierFranceConnect => {
            let request = c
                .http
                .get(format!(
                    "{}/v3/dss/participation_familiale_eaje/france_connect",
                    c.hub_url
                ))
                .bearer_auth(&user.access_token)
                .query(&[("recipient", c.recipient.as_str())]);
            from_api_particulier(c, n, hours, request).await
        }
        DataPath::DgfipFranceConnect => {
            let Some(children) = req.enfants.filter(|n| (1..=20).contains(n)) else {
                return Err(problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "children-required",
                    "Nombre d'enfants à charge requis",
                    "on this nursery's tax path, declare enfants (1 to 20) and enfants_aeeh",
                ));
            };
            let aeeh = req.enfants_aeeh.unwrap_or(0);
            if aeeh > children {
                return Err(problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-aeeh",
                    "Nombre d'enfants AEEH invalide",
                    "enfants_aeeh cannot exceed enfants",
                ));
            }
            from_dgfip(c, n, hours, user, children, aeeh).await
        }
        DataPath::ApiParticulierIdentite => {
            return Err(problem(
                StatusCode::CONFLICT,
                "counter-only",
                "Estimation au guichet",
                "this nursery reads family data at the counter: POST /api/creches/{id}/guichet",
            ));
        }
    };
    e.identite = Some(identity_of(user));
    Ok(e)
}

/// The parent's identity pivot as the agent types it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CounterRequest {
    nom_naissance: String,
    prenoms: String,
    /// `F` or `M`.
    sexe: String,
    /// `AAAA-MM-JJ`.
    date_naissance: String,
    #[serde(default)]
    code_cog_commune_naissance: String,
    #[serde(default = "france")]
    code_cog_pays_naissance: String,
    heures_annuelles: Option<u32>,
    /// The agent confirms the family was told which data is read and why.
    famille_informee: bool,
}

fn france() -> String {
    "99100".into()
}

async fn counter(c: &Creche, n: &NurseryConfig, req: CounterRequest) -> Result<Estimate, Response> {
    if n.data_path != DataPath::ApiParticulierIdentite {
        return Err(problem(
            StatusCode::CONFLICT,
            "franceconnect-only",
            "Estimation avec FranceConnect",
            "this nursery reads family data with the parent signed in: POST /api/creches/{id}/estimation",
        ));
    }
    if !req.famille_informee {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "family-not-informed",
            "Information de la famille requise",
            &format!(
                "confirm famille_informee: the family must be told of the data read and its legal basis ({})",
                n.legal_basis
            ),
        ));
    }
    let hours = check_hours(c, req.heures_annuelles)?;
    let date: Vec<&str> = req.date_naissance.split('-').collect();
    if date.len() != 3 || date.iter().any(|p| p.parse::<u32>().is_err()) {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-birthdate",
            "Date de naissance invalide",
            "date_naissance is AAAA-MM-JJ",
        ));
    }
    let mut query: Vec<(String, String)> = vec![
        ("recipient".into(), c.recipient.clone()),
        ("nomNaissance".into(), req.nom_naissance.clone()),
        ("sexeEtatCivil".into(), req.sexe.clone()),
        ("anneeDateNaissance".into(), date[0].into()),
        ("moisDateNaissance".into(), date[1].into()),
        ("jourDateNaissance".into(), date[2].into()),
        (
            "codeCogInseePaysNaissance".into(),
            req.code_cog_pays_naissance.clone(),
        ),
    ];
    if !req.code_cog_commune_naissance.is_empty() {
        query.push((
            "codeCogInseeCommuneNaissance".into(),
            req.code_cog_commune_naissance.clone(),
        ));
    }
    for p in req.prenoms.split_whitespace() {
        query.push(("prenoms[]".into(), p.into()));
    }
    let request = c
        .http
        .get(format!(
            "{}/v3/dss/participation_familiale_eaje/identite",
            c.hub_url
        ))
        .bearer_auth(&c.hub_token)
        .query(&query);
    let mut e = from_api_particulier(c, n, hours, request).await;
    e.explications.push(format!(
        "Base légale de la consultation : {}",
        n.legal_basis
    ));
    Ok(e)
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

async fn callback(State(c): State<Creche>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let now = c.core.clock.now().timestamp();
    oidc::finish(&c.sessions, &c.rp, &headers, q.as_deref(), now)
        .await
        .unwrap_or_else(|(status, e)| error_page(&c, status, None, &e))
}

async fn sign_out(State(c): State<Creche>, headers: HeaderMap) -> Response {
    oidc::end(&c.sessions, &c.rp, &headers).await
}

// --- JSON API -------------------------------------------------------------------------------

fn unknown_nursery(id: &str) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "unknown-nursery",
        "Crèche inconnue",
        &format!("no nursery {id:?}; GET /api/creches lists them"),
    )
}

fn signed_in(c: &Creche, headers: &HeaderMap) -> Result<SignedIn, Response> {
    c.sessions.require(headers, "/connexion?creche=ID")
}

async fn api_session(State(c): State<Creche>, headers: HeaderMap) -> Response {
    super::session_json(&c.sessions, &headers, "/connexion?creche=ID")
}

async fn api_nurseries(State(c): State<Creche>) -> Response {
    json_response(StatusCode::OK, &json!({"creches": *c.nurseries}))
}

async fn api_bareme(State(c): State<Creche>) -> Response {
    json_response(StatusCode::OK, &json!(*c.bareme))
}

fn estimate_response(e: Estimate) -> Response {
    let subject = e
        .identite
        .as_ref()
        .and_then(|i| i["sub"].as_str().map(String::from));
    let r = json_response(StatusCode::OK, &json!(e));
    match subject {
        Some(s) => with_subject(r, s),
        None => r,
    }
}

async fn api_estimate(
    State(c): State<Creche>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(n) = nursery(&c, &id).cloned() else {
        return unknown_nursery(&id);
    };
    let user = match signed_in(&c, &headers) {
        Ok(u) => u,
        Err(e) => return e,
    };
    let req: EstimateRequest = if body.is_empty() {
        EstimateRequest::default()
    } else {
        match super::json_body(&headers, &body) {
            Ok(r) => r,
            Err(e) => return e,
        }
    };
    match estimate(&c, &n, &user, req).await {
        Ok(e) => estimate_response(e),
        Err(e) => e,
    }
}

async fn api_counter(
    State(c): State<Creche>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(n) = nursery(&c, &id).cloned() else {
        return unknown_nursery(&id);
    };
    let req: CounterRequest = match super::json_body(&headers, &body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    match counter(&c, &n, req).await {
        Ok(e) => estimate_response(e),
        Err(e) => e,
    }
}

// --- Pages ----------------------------------------------------------------------------------

fn error_page(c: &Creche, status: StatusCode, user: Option<&SignedIn>, message: &str) -> Response {
    page(
        status,
        c.title,
        user,
        &format!(
            r#"<h1>Une erreur est survenue</h1><div class="notice ko" id="error">{}</div><p><a href="/">Retour aux crèches</a></p>"#,
            escape(message)
        ),
    )
}

async fn home(State(c): State<Creche>, headers: HeaderMap) -> Response {
    let user = c.sessions.user(&headers);
    let rows: String = c
        .nurseries
        .iter()
        .map(|n| {
            format!(
                r#"<tr><td><a href="/creches/{id}">{name}</a></td><td>{addr}</td><td>{path}</td></tr>"#,
                id = escape(&n.id),
                name = escape(&n.name),
                addr = escape(&n.address),
                path = escape(n.data_path.label()),
            )
        })
        .collect();
    page(
        StatusCode::OK,
        c.title,
        user.as_ref(),
        &format!(
            r#"<h1>Combien coûtera la crèche ?</h1>
<p>Le tarif horaire des crèches municipales suit le barème national de la CNAF (prestation de service unique) : il dépend de vos ressources et du nombre de vos enfants. Plus besoin de fournir vos justificatifs : connectez-vous avec FranceConnect, la crèche les obtient directement, avec votre accord.</p>
<table id="nurseries"><thead><tr><th>Crèche</th><th>Adresse</th><th>Données utilisées</th></tr></thead><tbody>{rows}</tbody></table>
<p class="muted">API JSON : <a href="/openapi.json">openapi.json</a> — barème : <a href="/api/bareme">/api/bareme</a>.</p>"#
        ),
    )
}

fn estimate_html(e: &Estimate) -> String {
    let lines: String = e
        .explications
        .iter()
        .map(|l| format!("<li>{}</li>", escape(l)))
        .collect();
    let (class, headline) = match (e.issue, &e.tarif_horaire) {
        ("tarif_calcule", Some(_)) => ("ok", String::new()),
        _ => ("warn", escape(&e.message)),
    };
    let fee = match (&e.tarif_horaire, &e.facture_mensuelle) {
        (Some(h), Some(m)) => format!(
            r#"<table id="bill"><tr><th>Tarif horaire</th><td class="amount" id="hourly">{} €</td></tr><tr><th>Heures contractualisées</th><td>{} h par an</td></tr><tr><th>Facture mensuelle</th><td class="amount" id="monthly">{} €</td></tr></table>"#,
            h.replace('.', ","),
            e.heures_annuelles,
            m.replace('.', ",")
        ),
        _ => String::new(),
    };
    let received = e.donnees_recues["champs"]
        .as_array()
        .map(|f| {
            format!(
                r#"<p class="muted" id="received">Données reçues de {} : {}.</p>"#,
                escape(e.donnees_recues["fournisseur"].as_str().unwrap_or("")),
                escape(
                    &f.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            )
        })
        .unwrap_or_default();
    let notice = if headline.is_empty() {
        String::new()
    } else {
        format!(
            r#"<div class="notice {class}" id="outcome" data-issue="{}">{headline}</div>"#,
            e.issue
        )
    };
    format!(r#"<h2>Votre tarif</h2>{notice}{fee}<ol id="explanation">{lines}</ol>{received}"#)
}

async fn nursery_page(
    State(c): State<Creche>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let user = c.sessions.user(&headers);
    let Some(n) = nursery(&c, &id) else {
        return error_page(&c, StatusCode::NOT_FOUND, user.as_ref(), "Crèche inconnue.");
    };
    let head = format!(
        r#"<p><a href="/">← Crèches</a></p><h1>{}</h1><p class="muted">{} — données : {}</p>"#,
        escape(&n.name),
        escape(&n.address),
        escape(n.data_path.label())
    );
    let body = match (n.data_path, &user) {
        (DataPath::ApiParticulierIdentite, _) => format!(
            r#"<p>Cette crèche calcule le tarif au guichet : <a class="button" href="/creches/{}/guichet">Accès agent</a></p>"#,
            escape(&n.id)
        ),
        (_, None) => format!(
            r#"<p>Connectez-vous pour que la crèche obtienne {} — et rien d'autre.</p>
<p><a class="button fc-button" id="franceconnect" href="/connexion?creche={}">S'identifier avec FranceConnect<small>Qu'est-ce que FranceConnect ?</small></a></p>"#,
            match n.data_path {
                DataPath::DgfipFranceConnect =>
                    "votre revenu fiscal de référence et votre nombre de parts",
                _ => "vos paramètres de calcul CAF/MSA (ressources, enfants à charge, AEEH)",
            },
            escape(&n.id)
        ),
        (path, Some(_)) => {
            let declared = if path == DataPath::DgfipFranceConnect {
                r#"<label for="enfants">Enfants à charge</label><input id="enfants" name="enfants" type="number" min="1" value="1" required>
<label for="enfants_aeeh">Dont bénéficiaires de l'AEEH</label><input id="enfants_aeeh" name="enfants_aeeh" type="number" min="0" value="0">"#
            } else {
                ""
            };
            format!(
                r#"<form method="post" action="/creches/{id}/estimation" id="estimate-form">
<label for="heures_annuelles">Heures d'accueil par an (contrat)</label><input id="heures_annuelles" name="heures_annuelles" type="number" min="1" value="{h}">{declared}
<p><button type="submit">Calculer mon tarif</button></p></form>"#,
                id = escape(&n.id),
                h = c.default_hours
            )
        }
    };
    page(
        StatusCode::OK,
        c.title,
        user.as_ref(),
        &format!("{head}{body}"),
    )
}

fn form_of(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

fn field(form: &[(String, String)], k: &str) -> Option<String> {
    form.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

async fn estimate_form(
    State(c): State<Creche>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(n) = nursery(&c, &id).cloned() else {
        return error_page(&c, StatusCode::NOT_FOUND, None, "Crèche inconnue.");
    };
    let Some(user) = c.sessions.user(&headers) else {
        return see_other(&format!("/creches/{}", n.id), None);
    };
    let form = form_of(&body);
    let number = |k: &str| field(&form, k).and_then(|v| v.parse::<u32>().ok());
    let req = EstimateRequest {
        heures_annuelles: number("heures_annuelles"),
        enfants: number("enfants"),
        enfants_aeeh: number("enfants_aeeh"),
    };
    let html = match estimate(&c, &n, &user, req).await {
        Ok(e) => estimate_html(&e),
        Err(e) => problem_html(e).await,
    };
    page(
        StatusCode::OK,
        c.title,
        Some(&user),
        &format!(
            r#"<p><a href="/creches/{id}">← {name}</a></p><h1>{name}</h1>{html}"#,
            id = escape(&n.id),
            name = escape(&n.name)
        ),
    )
}

async fn problem_html(e: Response) -> String {
    let (_, text) = super::problem_text(e).await;
    format!(
        r#"<div class="notice ko" id="error">{}</div>"#,
        escape(&text)
    )
}

async fn counter_page(State(c): State<Creche>, Path(id): Path<String>) -> Response {
    let Some(n) = nursery(&c, &id) else {
        return error_page(&c, StatusCode::NOT_FOUND, None, "Crèche inconnue.");
    };
    page(
        StatusCode::OK,
        c.title,
        None,
        &format!(
            r#"<p><a href="/creches/{id}">← {name}</a></p><h1>Guichet — {name}</h1>
<div class="notice">Consultation sans connexion du parent. Base légale : {basis}</div>
<form method="post" action="/creches/{id}/guichet" id="counter-form">
<label for="nom_naissance">Nom de naissance</label><input id="nom_naissance" name="nom_naissance" required>
<label for="prenoms">Prénoms</label><input id="prenoms" name="prenoms" required>
<label for="sexe">Sexe à l'état civil</label><select id="sexe" name="sexe"><option value="F">F</option><option value="M">M</option></select>
<label for="date_naissance">Date de naissance</label><input id="date_naissance" name="date_naissance" type="date" required>
<label for="code_cog_commune_naissance">Commune de naissance (code COG)</label><input id="code_cog_commune_naissance" name="code_cog_commune_naissance">
<label for="code_cog_pays_naissance">Pays de naissance (code COG)</label><input id="code_cog_pays_naissance" name="code_cog_pays_naissance" value="99100">
<label for="heures_annuelles">Heures d'accueil par an</label><input id="heures_annuelles" name="heures_annuelles" type="number" value="{h}">
<label><input type="checkbox" name="famille_informee" value="oui" style="width:auto"> La famille a été informée des données consultées et de leur base légale</label>
<p><button type="submit">Calculer le tarif</button></p></form>"#,
            id = escape(&n.id),
            name = escape(&n.name),
            basis = escape(&n.legal_basis),
            h = c.default_hours,
        ),
    )
}

async fn counter_form(State(c): State<Creche>, Path(id): Path<String>, body: Bytes) -> Response {
    let Some(n) = nursery(&c, &id).cloned() else {
        return error_page(&c, StatusCode::NOT_FOUND, None, "Crèche inconnue.");
    };
    let form = form_of(&body);
    let req = CounterRequest {
        nom_naissance: field(&form, "nom_naissance").unwrap_or_default(),
        prenoms: field(&form, "prenoms").unwrap_or_default(),
        sexe: field(&form, "sexe").unwrap_or_default(),
        date_naissance: field(&form, "date_naissance").unwrap_or_default(),
        code_cog_commune_naissance: field(&form, "code_cog_commune_naissance").unwrap_or_default(),
        code_cog_pays_naissance: field(&form, "code_cog_pays_naissance").unwrap_or_else(france),
        heures_annuelles: field(&form, "heures_annuelles").and_then(|v| v.parse().ok()),
        famille_informee: field(&form, "famille_informee").is_some(),
    };
    let html = match counter(&c, &n, req).await {
        Ok(e) => estimate_html(&e),
        Err(e) => problem_html(e).await,
    };
    page(
        StatusCode::OK,
        c.title,
        None,
        &format!(
            r#"<p><a href="/creches/{id}/guichet">← Guichet</a></p><h1>{name}</h1>{html}"#,
            id = escape(&n.id),
            name = escape(&n.name)
        ),
    )
}

// --- OpenAPI --------------------------------------------------------------------------------

fn openapi(base_url: &str, _p: &Population) -> Value {
    let problem_ref =
        json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
    let err = |d: &str| json!({"description": d, "content": problem_ref.clone()});
    let ok = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"type": "object"}}}});
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "example": "les-lilas"});
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Crèches (démo) — API", "version": "1.0.0",
                 "description": "The demo nursery service's JSON API: the fee of a place with the CNAF's PSU scale. Sign in with FranceConnect first (GET /connexion?creche=ID in a browser or a virtual citizen); the session cookie authenticates. Every outcome is a 200 with an `issue` (tarif_calcule, sans_dossier_caf_msa, service_indisponible…) and its explanation; client errors are RFC 9457 problem details."},
        "servers": [{"url": base_url}],
        "paths": {
            "/api/session": {"get": {"operationId": "session", "summary": "Who is signed in (the identity FranceConnect passed)", "responses": {"200": ok("signed in"), "401": err("not signed in")}}},
            "/api/creches": {"get": {"operationId": "nurseries", "summary": "The nurseries and the data path of each", "responses": {"200": ok("nurseries")}}},
            "/api/bareme": {"get": {"operationId": "scale", "summary": "The PSU scale in use (rates, dated floors and ceilings)", "responses": {"200": ok("scale")}}},
            "/api/creches/{id}/estimation": {"post": {"operationId": "estimate", "summary": "The signed-in parent's fee", "parameters": [id.clone()],
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"heures_annuelles": {"type": "integer"}, "enfants": {"type": "integer"}, "enfants_aeeh": {"type": "integer"}}}}}},
                "responses": {"200": ok("an explained outcome"), "400": err("bad body"), "401": err("not signed in"), "404": err("unknown nursery"), "409": err("counter-only nursery"), "415": err("not JSON"), "422": err("invalid field")}}},
            "/api/creches/{id}/guichet": {"post": {"operationId": "counterEstimate", "summary": "At the counter: the fee by identity pivot (no sign-in), under the nursery's legal basis", "parameters": [id],
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["nom_naissance", "prenoms", "sexe", "date_naissance", "famille_informee"]}}}},
                "responses": {"200": ok("an explained outcome"), "400": err("bad body"), "404": err("unknown nursery"), "409": err("FranceConnect-only nursery"), "415": err("not JSON"), "422": err("invalid field")}}},
        },
        "components": {"schemas": {"Problem": {"type": "object", "required": ["type", "title", "status", "detail"]}}},
    })
}
