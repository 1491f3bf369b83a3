//! CNAF and MSA, the family-benefit regimes: quotient familial of a month and the parameters of
//! the nursery (EAJE) fee, by the allocataire's identity pivot; for the MSA also the contributions
//! compliance of agricultural employers. One implementation, two parties (`cnaf`, `msa`): each
//! answers only for the files it holds.
//!
//! Shaped like the CNAV "API-SECU" answers API Particulier relayed: camelCase fields, `regime`,
//! birth dates split in year/month/day strings. Errors are the regimes' return codes,
//! `{"codeRetour", "libelleRetour"}` (133 = no file, 151 = QF unavailable).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Datelike;
use serde_json::{Value, json};

use crate::http::openapi;
use crate::http::{PartyApp, PartyCore, PartyId, json_response, with_subject};
use crate::http::{param, query_pairs};
use crate::population::{
    Citizen, Gender, Household, MsaStatus, PivotQuery, Population, Regime, ids, tax,
};

const BASE: &str = "/api/v1";
/// How far back the quotient familial can be asked for, in months.
pub const QF_HISTORY_MONTHS: i32 = 24;

#[derive(Clone)]
struct SocialState {
    core: PartyCore,
    regime: Regime,
}

/// The CNAF or MSA party.
pub fn app(population: Arc<Population>, regime: Regime) -> PartyApp {
    let id = match regime {
        Regime::Cnaf => PartyId::CNAF,
        Regime::Msa => PartyId::MSA,
    };
    let core = PartyCore::new(id, population);
    let mut router = crate::http::Routes::new()
        .get(&format!("{BASE}/quotient-familial"), quotient_familial)
        .get(
            &format!("{BASE}/participation-familiale-eaje"),
            participation_eaje,
        )
        .get(&format!("{BASE}/ping"), || async {
            json_response(StatusCode::OK, &json!({"status": "ok"}))
        });
    if regime == Regime::Msa {
        router = router.get(
            &format!("{BASE}/conformite-cotisations/{{siret}}"),
            conformite_cotisations,
        );
    }
    let router = router
        .fallback(|| async { error(StatusCode::NOT_FOUND, "404", "Ressource inconnue") })
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "405",
                "Méthode non autorisée",
            )
        })
        .with_state(SocialState {
            core: core.clone(),
            regime,
        });
    let openapi = match regime {
        Regime::Cnaf => openapi_cnaf as fn(&str, &Population) -> Value,
        Regime::Msa => openapi_msa,
    };
    PartyApp::registered(core, router, openapi).with_rejection(|s, d| {
        let libelle = format!("{} : {d}", crate::http::layer::reason_fr(s));
        error(s, s.as_str(), libelle)
    })
}

fn error(status: StatusCode, code: &str, libelle: impl Into<String>) -> Response {
    json_response(
        status,
        &json!({"codeRetour": code, "libelleRetour": libelle.into()}),
    )
}

/// The identity pivot as sent in the query, checked.
struct Identity {
    nom_naissance: String,
    prenoms: String,
    sexe: Gender,
    /// Optional: a caller may not know the year (the regimes then match on the rest).
    annee: Option<u16>,
    mois: Option<u8>,
    jour: Option<u8>,
    code_lieu: Option<String>,
    code_pays: String,
}

impl Identity {
    fn subject(&self) -> String {
        format!(
            "{} {} {:04}-{:02}-{:02}",
            self.nom_naissance,
            self.prenoms,
            self.annee.unwrap_or(0),
            self.mois.unwrap_or(0),
            self.jour.unwrap_or(0)
        )
    }
}

fn parse_identity(pairs: &[(String, String)]) -> Result<Identity, Response> {
    let bad = |what: &str| {
        Err(error(
            StatusCode::BAD_REQUEST,
            "400",
            format!("Paramètre invalide ou manquant : {what}"),
        ))
    };
    let Some(nom) = param(pairs, "nomNaissance").filter(|s| !s.trim().is_empty()) else {
        return bad("nomNaissance");
    };
    // `prenoms` may be repeated (one per given name) or space separated.
    let prenoms: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "prenoms" || k == "prenoms[]")
        .map(|(_, v)| v.as_str())
        .collect();
    if prenoms.is_empty() || prenoms.iter().all(|p| p.trim().is_empty()) {
        return bad("prenoms");
    }
    let sexe = match param(pairs, "sexe") {
        Some("F") => Gender::Female,
        Some("M") => Gender::Male,
        _ => return bad("sexe (F ou M)"),
    };
    let annee = match param(pairs, "anneeDateDeNaissance") {
        None | Some("") => None,
        Some(a) => match a.parse::<u16>().ok().filter(|a| (1880..=2100).contains(a)) {
            Some(a) => Some(a),
            None => return bad("anneeDateDeNaissance"),
        },
    };
    let small = |name: &str, max: u8| -> Result<Option<u8>, ()> {
        match param(pairs, name) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse::<u8>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .map(Some)
                .ok_or(()),
        }
    };
    let Ok(mois) = small("moisDateDeNaissance", 12) else {
        return bad("moisDateDeNaissance");
    };
    let Ok(jour) = small("jourDateDeNaissance", 31) else {
        return bad("jourDateDeNaissance");
    };
    let Some(code_pays) = param(pairs, "codePaysLieuDeNaissance")
        .filter(|c| c.len() == 5 && c.starts_with("99") && c.bytes().all(|b| b.is_ascii_digit()))
    else {
        return bad("codePaysLieuDeNaissance (COG pays, 99100 pour la France)");
    };
    let code_lieu = param(pairs, "codeInseeLieuDeNaissance")
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    if code_pays == "99100" && code_lieu.as_ref().is_none_or(|c| c.len() != 5) {
        return bad("codeInseeLieuDeNaissance (obligatoire pour une naissance en France)");
    }
    Ok(Identity {
        nom_naissance: nom.to_string(),
        prenoms: prenoms.join(" "),
        sexe,
        annee,
        mois,
        jour,
        code_lieu,
        code_pays: code_pays.to_string(),
    })
}

/// Finds the allocataire holding a file with this regime.
fn allocataire<'a>(
    s: &'a SocialState,
    id: &Identity,
) -> Result<(&'a Citizen, &'a Household), Response> {
    let p = &s.core.population;
    let q = PivotQuery {
        family_name: &id.nom_naissance,
        given_names: &id.prenoms,
        gender: Some(id.sexe),
        birth_year: id.annee,
        birth_month: id.mois,
        birth_day: id.jour,
        birthplace: id.code_lieu.as_deref(),
        birthcountry: Some(&id.code_pays),
    };
    let matches: Vec<(&Citizen, &Household)> = p
        .find_by_pivot(&q)
        .into_iter()
        .map(|c| (c, p.household_of(c)))
        .filter(|(c, h)| {
            h.declarants.contains(&c.id) && h.social.as_ref().is_some_and(|f| f.regime == s.regime)
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] if s
            .core
            .defects
            .has(crate::defects::Defect::CnafAnswers200ForNoFile) =>
        {
            Err(crate::http::json_response(StatusCode::OK, &json!({})))
        }
        [] => Err(error(
            StatusCode::NOT_FOUND,
            "133",
            "Dossier allocataire inexistant",
        )),
        _ => Err(error(
            StatusCode::CONFLICT,
            "134",
            "Plusieurs allocataires correspondent à cette identité",
        )),
    }
}

fn person_json(c: &Citizen) -> Value {
    json!({
        "nomNaissance": c.family_name,
        "nomUsage": c.usage_name,
        "prenoms": c.given_names.to_uppercase(),
        "anneeDateDeNaissance": format!("{:04}", c.birth_date.year),
        "moisDateDeNaissance": (c.birth_date.month != 0).then(|| format!("{:02}", c.birth_date.month)),
        "jourDateDeNaissance": (c.birth_date.day != 0).then(|| format!("{:02}", c.birth_date.day)),
        "sexe": c.gender.letter(),
        "codeInseeLieuDeNaissance": (!c.birthplace.is_empty()).then_some(&c.birthplace),
        "codePaysLieuDeNaissance": c.birthcountry,
    })
}

fn family_json(p: &Population, h: &Household) -> (Vec<Value>, Vec<Value>, Value) {
    let allocataires = h
        .declarants
        .iter()
        .map(|id| person_json(p.citizen(*id)))
        .collect();
    let enfants = h
        .children
        .iter()
        .map(|id| person_json(p.citizen(*id)))
        .collect();
    let first = p.citizen(h.declarants[0]);
    let civility = match first.gender {
        Gender::Female => "Madame",
        Gender::Male => "Monsieur",
    };
    let adresse = json!({
        "identite": format!("{civility} {} {}", first.given_names.to_uppercase(), first.usage_name.as_ref().unwrap_or(&first.family_name)),
        "complementInformation": null,
        "complementInformationGeographique": null,
        "numeroLibelleVoie": h.address.line(),
        "lieuDit": null,
        "codePostalVille": h.address.city_line(),
        "pays": "FRANCE",
    });
    (allocataires, enfants, adresse)
}

async fn quotient_familial(State(s): State<SocialState>, RawQuery(raw): RawQuery) -> Response {
    let pairs = query_pairs(raw.as_deref());
    let id = match parse_identity(&pairs) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let subject = id.subject();
    let today = s.core.clock.now().date_naive();
    // The month asked for: the current one by default, at most 24 months back, never ahead.
    let (year, month) = match (param(&pairs, "annee"), param(&pairs, "mois")) {
        (None, None) => (today.year(), today.month()),
        (Some(a), Some(m)) => match (a.parse::<i32>(), m.parse::<u32>()) {
            (Ok(a), Ok(m)) if (1..=12).contains(&m) => (a, m),
            _ => {
                return with_subject(
                    error(
                        StatusCode::BAD_REQUEST,
                        "400",
                        "Paramètres annee et mois invalides",
                    ),
                    subject,
                );
            }
        },
        _ => {
            return with_subject(
                error(
                    StatusCode::BAD_REQUEST,
                    "400",
                    "Les paramètres annee et mois vont ensemble",
                ),
                subject,
            );
        }
    };
    let age_months = (today.year() - year) * 12 + today.month() as i32 - month as i32;
    if !(0..QF_HISTORY_MONTHS).contains(&age_months) {
        return with_subject(
            error(
                StatusCode::BAD_REQUEST,
                "400",
                format!(
                    "Le quotient familial n'est disponible que pour les {QF_HISTORY_MONTHS} derniers mois"
                ),
            ),
            subject,
        );
    }
    let (_, h) = match allocataire(&s, &id) {
        Ok(found) => found,
        Err(e) => return with_subject(e, subject),
    };
    let p = &s.core.population;
    let Some(qf) = tax::quotient_familial(h, year as u16) else {
        return with_subject(
            error(
                StatusCode::NOT_FOUND,
                "151",
                "Quotient familial non disponible : ressources non déclarées",
            ),
            subject,
        );
    };
    let (allocataires, enfants, adresse) = family_json(p, h);
    let body = json!({
        "regime": s.regime.label(),
        "allocataires": allocataires,
        "enfants": enfants,
        "adresse": adresse,
        "quotientFamilial": qf,
        "annee": year,
        "mois": month,
    });
    with_subject(json_response(StatusCode::OK, &body), subject)
}

async fn participation_eaje(State(s): State<SocialState>, RawQuery(raw): RawQuery) -> Response {
    let pairs = query_pairs(raw.as_deref());
    let id = match parse_identity(&pairs) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let subject = id.subject();
    let (_, h) = match allocataire(&s, &id) {
        Ok(found) => found,
        Err(e) => return with_subject(e, subject),
    };
    let p = &s.core.population;
    let year = s.core.clock.now().year() as u16;
    // A missing parameter is an error: the regimes never answer partially.
    let Some(params) = tax::eaje_parameters(h, year) else {
        return with_subject(
            error(
                StatusCode::NOT_FOUND,
                "151",
                "Paramètres de calcul non disponibles : ressources non connues",
            ),
            subject,
        );
    };
    let (allocataires, enfants, adresse) = family_json(p, h);
    let body = json!({
        "regime": s.regime.label(),
        "allocataires": allocataires,
        "enfants": enfants,
        "adresse": adresse,
        "parametresCalculParticipationFamiliale": {
            "nombreEnfantsACharge": params.children_in_charge,
            "nombreEnfantsBeneficiaireAeeh": params.aeeh_children,
            "baseRessourcesAnnuelles": {"valeur": params.annual_resources, "anneeCalcul": params.resources_year},
        },
    });
    with_subject(json_response(StatusCode::OK, &body), subject)
}

/// MSA only: whether an agricultural employer is up to date with its contributions.
async fn conformite_cotisations(
    State(s): State<SocialState>,
    Path(siret): Path<String>,
) -> Response {
    let response = if !ids::is_valid_siret(&siret) {
        error(
            StatusCode::BAD_REQUEST,
            "400",
            "Le SIRET doit comporter 14 chiffres et une clé de Luhn valide",
        )
    } else {
        match s
            .core
            .population
            .establishment_by_siret(&siret)
            .and_then(|(c, _)| c.msa.map(|m| (c, m)))
        {
            None => error(
                StatusCode::NOT_FOUND,
                "404",
                "Aucun compte cotisant MSA pour ce SIRET",
            ),
            Some((_, status)) => json_response(
                StatusCode::OK,
                &json!({
                    "siret": siret,
                    "statut": match status {
                        MsaStatus::UpToDate => "A_JOUR",
                        MsaStatus::Outdated => "NON_A_JOUR",
                        MsaStatus::UnderInvestigation => "EN_COURS_DE_CONTROLE",
                    },
                    "dateVerification": s.core.clock.now().date_naive().format("%Y-%m-%d").to_string(),
                }),
            ),
        }
    };
    with_subject(response, siret)
}

fn openapi_cnaf(base_url: &str, p: &Population) -> Value {
    openapi(base_url, p, Regime::Cnaf)
}

fn openapi_msa(base_url: &str, p: &Population) -> Value {
    openapi(base_url, p, Regime::Msa)
}

/// The OpenAPI 3.1 document of the simulated CNAF or MSA API.
///
/// Long: the document, its operations written out one after the other.
pub fn openapi(base_url: &str, p: &Population, regime: Regime) -> Value {
    let c = p
        .citizens
        .iter()
        .find(|c| {
            let h = p.household_of(c);
            h.declarants.first() == Some(&c.id)
                && h.social.as_ref().is_some_and(|f| f.regime == regime)
                && !c.birth_date.is_presumed()
        })
        .unwrap_or(&p.citizens[0]);
    let error = |d: &str| openapi::json_ref(d, "Erreur");
    // The rules `parse_identity` and `quotient_familial` enforce, as schemas; the two no
    // parameter schema can carry (the birth commune when born in France, `annee` and `mois`
    // together within the last 24 months) are said in the descriptions.
    let q = |name: &str, required: bool, schema: Value, example: Value| json!({"name": name, "in": "query", "required": required, "schema": schema, "example": example});
    let text = json!({"type": "string", "pattern": "\\S"});
    let int = |min: u16, max: u16| json!({"type": "integer", "minimum": min, "maximum": max});
    let identity = vec![
        q("nomNaissance", true, text.clone(), json!(c.family_name)),
        q("prenoms", true, text, json!(c.given_names)),
        q(
            "sexe",
            true,
            json!({"type": "string", "enum": ["F", "M"]}),
            json!(c.gender.letter()),
        ),
        q(
            "anneeDateDeNaissance",
            true,
            int(1880, 2100),
            json!(c.birth_date.year),
        ),
        q(
            "moisDateDeNaissance",
            false,
            int(1, 12),
            json!(c.birth_date.month),
        ),
        q(
            "jourDateDeNaissance",
            false,
            int(1, 31),
            json!(c.birth_date.day),
        ),
        q(
            "codeInseeLieuDeNaissance",
            false,
            json!({"type": "string", "description": "COG code of the birth commune: five characters, required when codePaysLieuDeNaissance is 99100"}),
            json!(c.birthplace),
        ),
        q(
            "codePaysLieuDeNaissance",
            true,
            json!({"type": "string", "pattern": "^99[0-9]{3}$"}),
            json!(c.birthcountry),
        ),
    ];
    let mut qf_params = identity.clone();
    let period = "With the other of annee and mois; the month asked must be one of the last 24 (400 otherwise)";
    qf_params.push(json!({"name": "annee", "in": "query", "required": false, "schema": int(1900, 2100), "description": period}));
    qf_params.push(json!({"name": "mois", "in": "query", "required": false, "schema": int(1, 12), "description": period}));
    let mut paths = json!({
        format!("{BASE}/quotient-familial"): {"get": {
            "operationId": "quotientFamilial", "summary": "Quotient familial of a month (current by default, 24 months of history)",
            "parameters": qf_params,
            "responses": {
                "200": {"description": "QF and family", "content": {"application/json": {"schema": {"type": "object", "required": ["regime", "allocataires", "enfants", "adresse", "quotientFamilial", "annee", "mois"]}}}},
                "400": error("Malformed identity or month"), "404": error("No file (133) or QF unavailable (151)"), "409": error("Several allocataires match (134)"),
            }}},
        format!("{BASE}/participation-familiale-eaje"): {"get": {
            "operationId": "participationFamilialeEaje", "summary": "Parameters of the nursery (PSU) fee",
            "parameters": identity,
            "responses": {
                "200": {"description": "EAJE parameters", "content": {"application/json": {"schema": {"type": "object", "required": ["regime", "allocataires", "enfants", "adresse", "parametresCalculParticipationFamiliale"]}}}},
                "400": error("Malformed identity"), "404": error("No file (133) or parameters unavailable (151)"), "409": error("Several allocataires match (134)"),
            }}},
        format!("{BASE}/ping"): openapi::ping(),
    });
    if regime == Regime::Msa {
        let siret = p
            .companies
            .iter()
            .find(|c| c.msa.is_some())
            .map(|c| c.head_office().siret.clone())
            .unwrap_or_default();
        paths[format!("{BASE}/conformite-cotisations/{{siret}}")] = json!({"get": {
        "operationId": "conformiteCotisations", "summary": "Contributions compliance of an agricultural employer",
        "parameters": [openapi::siret_parameter(&siret)],
        "responses": {
            "200": {"description": "A_JOUR, NON_A_JOUR or EN_COURS_DE_CONTROLE", "content": {"application/json": {"schema": {"type": "object", "required": ["siret", "statut"]}}}},
            "400": error("Malformed SIRET"), "404": error("No MSA account"),
        }}});
    }
    let title = format!("{} (simulated)", regime.label());
    let description = "Family-benefit data by identity pivot. Synthetic data.";
    openapi::document(
        (&title, "1.0", description),
        base_url,
        paths,
        json!({"schemas": {"Erreur": {"type": "object", "required": ["codeRetour", "libelleRetour"], "properties": {"codeRetour": {"type": "string"}, "libelleRetour": {"type": "string"}}}}}),
    )
}
