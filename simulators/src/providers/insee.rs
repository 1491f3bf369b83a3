//! INSEE, API Sirene 3.11: legal units (`/siren/{siren}`), establishments (`/siret/{siret}`,
//! `/siret?q=siren:…`) and the service state (`/informations`).
//!
//! Shaped like the real API: a `header` with `statut` and `message`, camelCase fields suffixed
//! with the object (`denominationUniteLegale`), history in `periodes…`, dates `YYYY-MM-DD`.
//! Units never diffused (statut `N`) get 403, as INSEE refuses them; partially diffusible ones
//! (`P`) are served in full, since the platform's hubs hold the habilitation to see them.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Value, json};

use super::ymd;
use crate::defects::Defect;
use crate::http::openapi;
use crate::http::{PartyApp, PartyCore, PartyId, json_response, with_subject};
use crate::http::{param, query_pairs};
use crate::population::{Company, Diffusion, Establishment, Population, ids};

const BASE: &str = "/entreprises/sirene/V3.11";

/// The INSEE party.
pub fn app(population: Arc<Population>) -> PartyApp {
    let core = PartyCore::new(PartyId::INSEE, population);
    let router = crate::http::Routes::new()
        .get(&format!("{BASE}/siren/{{siren}}"), unite_legale)
        .get(&format!("{BASE}/siret/{{siret}}"), etablissement)
        .get(&format!("{BASE}/siret"), etablissements)
        .get(&format!("{BASE}/informations"), informations)
        .fallback(not_found_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(core.clone());
    PartyApp::registered(core, router, openapi).with_rejection(|s, d| error_header(s, d))
}

/// INSEE's error body: the header alone.
fn error_header(status: StatusCode, message: impl Into<String>) -> Response {
    json_response(
        status,
        &json!({"header": {"statut": status.as_u16(), "message": message.into()}}),
    )
}

/// An error of a handler: INSEE's format, or the catalogue's `insee-wrong-error-format`
/// (`{"error": message}`) when that defect is on.
fn error(core: &PartyCore, status: StatusCode, message: impl Into<String>) -> Response {
    if core.defects.has(Defect::InseeWrongErrorFormat) {
        return json_response(status, &json!({"error": message.into()}));
    }
    error_header(status, message)
}

async fn not_found_route(State(core): State<PartyCore>) -> Response {
    error(&core, StatusCode::NOT_FOUND, "Ressource inconnue")
}

async fn method_not_allowed(State(core): State<PartyCore>) -> Response {
    error(
        &core,
        StatusCode::METHOD_NOT_ALLOWED,
        "Méthode non autorisée",
    )
}

fn tranche_year(c: &Company) -> Option<String> {
    (c.headcount_band != "NN").then(|| chrono::Datelike::year(&c.created).max(2022).to_string())
}

fn employer(c: &Company) -> &'static str {
    if c.headcount_band == "NN" || c.headcount_band == "00" {
        "N"
    } else {
        "O"
    }
}

fn last_processed(d: NaiveDate) -> String {
    format!("{}T00:00:00.000", ymd(d))
}

// Typed bodies, borrowing from the population: serialised straight to bytes, without building a
// `serde_json::Value` tree first (that tree cost ten times the rest of the request).

#[derive(Serialize)]
struct Header {
    statut: u16,
    message: &'static str,
}

const OK: Header = Header {
    statut: 200,
    message: "OK",
};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UniteLegaleBody<'a> {
    header: Header,
    unite_legale: UniteLegale<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EtablissementBody<'a> {
    header: Header,
    etablissement: Etablissement<'a>,
}

#[derive(Serialize)]
struct ListHeader {
    statut: u16,
    message: &'static str,
    total: usize,
    debut: usize,
    nombre: usize,
}

#[derive(Serialize)]
struct EtablissementsBody<'a> {
    header: ListHeader,
    etablissements: Vec<Etablissement<'a>>,
}

/// Fields of the legal unit that do not change with time.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UniteLegale<'a> {
    siren: &'a str,
    statut_diffusion_unite_legale: &'static str,
    unite_purgee_unite_legale: Option<bool>,
    date_creation_unite_legale: NaiveDate,
    sigle_unite_legale: Option<&'a str>,
    sexe_unite_legale: Option<&'static str>,
    prenom1_unite_legale: Option<&'a str>,
    prenom2_unite_legale: Option<&'a str>,
    prenom3_unite_legale: Option<&'a str>,
    prenom4_unite_legale: Option<&'a str>,
    prenom_usuel_unite_legale: Option<&'a str>,
    pseudonyme_unite_legale: Option<&'a str>,
    identifiant_association_unite_legale: Option<String>,
    tranche_effectifs_unite_legale: Option<&'a str>,
    annee_effectifs_unite_legale: Option<String>,
    date_dernier_traitement_unite_legale: String,
    categorie_entreprise: Option<&'static str>,
    annee_categorie_entreprise: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nombre_periodes_unite_legale: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    periodes_unite_legale: Option<Vec<PeriodeUniteLegale<'a>>>,
    /// Nested in an establishment, the unit is flattened to its current period.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    courante: Option<UniteLegaleCourante<'a>>,
}

/// A period of the legal unit's history.
#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct PeriodeUniteLegale<'a> {
    date_fin: Option<NaiveDate>,
    date_debut: NaiveDate,
    #[serde(rename = "changementEtatAdministratifUniteLegale")]
    change_etat: bool,
    #[serde(flatten)]
    valeurs: UniteLegaleCourante<'a>,
}

/// The time-varying values of a legal unit.
#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct UniteLegaleCourante<'a> {
    etat_administratif_unite_legale: &'static str,
    nom_unite_legale: Option<&'a str>,
    nom_usage_unite_legale: Option<&'a str>,
    denomination_unite_legale: Option<&'a str>,
    denomination_usuelle1_unite_legale: Option<&'a str>,
    categorie_juridique_unite_legale: &'a str,
    activite_principale_unite_legale: &'a str,
    nomenclature_activite_principale_unite_legale: &'static str,
    nic_siege_unite_legale: &'a str,
    economie_sociale_solidaire_unite_legale: &'static str,
    societe_mission_unite_legale: Option<&'a str>,
    caractere_employeur_unite_legale: &'static str,
}

fn build_unite_legale<'a>(p: &'a Population, c: &'a Company, full: bool) -> UniteLegale<'a> {
    let owner = c.owner.map(|o| p.citizen(o));
    let mut given = owner
        .map(|o| o.given_names.split(' '))
        .into_iter()
        .flatten();
    let (g1, g2, g3, g4) = (given.next(), given.next(), given.next(), given.next());
    let current = UniteLegaleCourante {
        etat_administratif_unite_legale: if c.ceased.is_some() { "C" } else { "A" },
        nom_unite_legale: owner.map(|o| o.family_name.as_str()),
        nom_usage_unite_legale: owner.and_then(|o| o.usage_name.as_deref()),
        denomination_unite_legale: (!c.is_natural_person()).then_some(c.name.as_str()),
        denomination_usuelle1_unite_legale: None,
        categorie_juridique_unite_legale: &c.legal_form,
        activite_principale_unite_legale: &c.naf,
        nomenclature_activite_principale_unite_legale: "NAFRev2",
        nic_siege_unite_legale: c.head_office().nic(),
        economie_sociale_solidaire_unite_legale: if c.legal_form == "9220" { "O" } else { "N" },
        societe_mission_unite_legale: None,
        caractere_employeur_unite_legale: employer(c),
    };
    let periods = full.then(|| {
        let mut periods = vec![PeriodeUniteLegale {
            date_fin: None,
            date_debut: c.ceased.unwrap_or(c.created),
            change_etat: c.ceased.is_some(),
            valeurs: current.clone(),
        }];
        if let Some(ceased) = c.ceased {
            let before = UniteLegaleCourante {
                etat_administratif_unite_legale: "A",
                ..current.clone()
            };
            periods.push(PeriodeUniteLegale {
                date_fin: ceased.pred_opt(),
                date_debut: c.created,
                change_etat: false,
                valeurs: before,
            });
        }
        periods
    });
    UniteLegale {
        siren: &c.siren,
        statut_diffusion_unite_legale: c.diffusion.code(),
        unite_purgee_unite_legale: None,
        date_creation_unite_legale: c.created,
        sigle_unite_legale: c.sigle.as_deref(),
        sexe_unite_legale: owner.map(|o| o.gender.letter()),
        prenom1_unite_legale: g1,
        prenom2_unite_legale: g2,
        prenom3_unite_legale: g3,
        prenom4_unite_legale: g4,
        prenom_usuel_unite_legale: g1,
        pseudonyme_unite_legale: None,
        identifiant_association_unite_legale: (c.legal_form == "9220")
            .then(|| format!("W{}", &c.siren[..9])),
        tranche_effectifs_unite_legale: (c.headcount_band != "NN")
            .then_some(c.headcount_band.as_str()),
        annee_effectifs_unite_legale: tranche_year(c),
        date_dernier_traitement_unite_legale: last_processed(c.ceased.unwrap_or(c.created)),
        categorie_entreprise: c.category(),
        annee_categorie_entreprise: c.category().map(|_| "2023"),
        nombre_periodes_unite_legale: periods.as_ref().map(Vec::len),
        periodes_unite_legale: periods,
        courante: (!full).then_some(current),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Etablissement<'a> {
    siren: &'a str,
    nic: &'a str,
    siret: &'a str,
    statut_diffusion_etablissement: &'static str,
    date_creation_etablissement: NaiveDate,
    tranche_effectifs_etablissement: Option<&'a str>,
    annee_effectifs_etablissement: Option<String>,
    activite_principale_registre_metiers_etablissement: Option<&'a str>,
    date_dernier_traitement_etablissement: String,
    etablissement_siege: bool,
    nombre_periodes_etablissement: usize,
    unite_legale: UniteLegale<'a>,
    adresse_etablissement: Adresse<'a>,
    periodes_etablissement: [PeriodeEtablissement<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Adresse<'a> {
    complement_adresse_etablissement: Option<&'a str>,
    numero_voie_etablissement: String,
    indice_repetition_etablissement: Option<&'a str>,
    type_voie_etablissement: &'a str,
    libelle_voie_etablissement: &'a str,
    code_postal_etablissement: &'a str,
    libelle_commune_etablissement: String,
    libelle_commune_etranger_etablissement: Option<&'a str>,
    distribution_speciale_etablissement: Option<&'a str>,
    code_commune_etablissement: &'a str,
    code_cedex_etablissement: Option<&'a str>,
    libelle_cedex_etablissement: Option<&'a str>,
    code_pays_etranger_etablissement: Option<&'a str>,
    libelle_pays_etranger_etablissement: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PeriodeEtablissement<'a> {
    date_fin: Option<NaiveDate>,
    date_debut: NaiveDate,
    etat_administratif_etablissement: &'static str,
    changement_etat_administratif_etablissement: bool,
    enseigne1_etablissement: Option<&'a str>,
    denomination_usuelle_etablissement: Option<&'a str>,
    activite_principale_etablissement: &'a str,
    nomenclature_activite_principale_etablissement: &'static str,
    caractere_employeur_etablissement: &'static str,
}

fn build_etablissement<'a>(
    p: &'a Population,
    c: &'a Company,
    e: &'a Establishment,
) -> Etablissement<'a> {
    let a = &e.address;
    Etablissement {
        siren: &c.siren,
        nic: e.nic(),
        siret: &e.siret,
        statut_diffusion_etablissement: c.diffusion.code(),
        date_creation_etablissement: e.created,
        tranche_effectifs_etablissement: (c.headcount_band != "NN")
            .then_some(c.headcount_band.as_str()),
        annee_effectifs_etablissement: tranche_year(c),
        activite_principale_registre_metiers_etablissement: None,
        date_dernier_traitement_etablissement: last_processed(e.closed.unwrap_or(e.created)),
        etablissement_siege: e.head_office,
        nombre_periodes_etablissement: 1 + usize::from(e.closed.is_some()),
        unite_legale: build_unite_legale(p, c, false),
        adresse_etablissement: Adresse {
            complement_adresse_etablissement: None,
            numero_voie_etablissement: a.number.to_string(),
            indice_repetition_etablissement: None,
            type_voie_etablissement: &a.street_type,
            libelle_voie_etablissement: &a.street_name,
            code_postal_etablissement: &a.postal_code,
            libelle_commune_etablissement: a.city.to_uppercase(),
            libelle_commune_etranger_etablissement: None,
            distribution_speciale_etablissement: None,
            code_commune_etablissement: &a.commune_cog,
            code_cedex_etablissement: None,
            libelle_cedex_etablissement: None,
            code_pays_etranger_etablissement: None,
            libelle_pays_etranger_etablissement: None,
        },
        periodes_etablissement: [PeriodeEtablissement {
            date_fin: None,
            date_debut: e.closed.unwrap_or(e.created),
            etat_administratif_etablissement: if e.closed.is_some() { "F" } else { "A" },
            changement_etat_administratif_etablissement: e.closed.is_some(),
            enseigne1_etablissement: e.sign.as_deref(),
            denomination_usuelle_etablissement: None,
            activite_principale_etablissement: &c.naf,
            nomenclature_activite_principale_etablissement: "NAFRev2",
            caractere_employeur_etablissement: employer(c),
        }],
    }
}

/// Serialises a typed body as an `application/json` response.
fn typed_ok<T: Serialize>(body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            bytes,
        )
            .into_response(),
        Err(_) => error_header(StatusCode::INTERNAL_SERVER_ERROR, "Erreur de sérialisation"),
    }
}

/// A unit's or an establishment's answer, which depends only on the population and the
/// defects: serialised once, then kept (see [`PartyCore::memoised`]).
fn kept_ok<T: Serialize>(core: &PartyCore, key: &str, body: impl FnOnce() -> T) -> Response {
    core.memoised(key, || serde_json::to_vec(&body()))
        .unwrap_or_else(|| {
            error_header(StatusCode::INTERNAL_SERVER_ERROR, "Erreur de sérialisation")
        })
}

async fn unite_legale(State(core): State<PartyCore>, Path(siren): Path<String>) -> Response {
    if !ids::is_valid_siren(&siren) && siren != ids::LA_POSTE_SIREN {
        return with_subject(
            error(
                &core,
                StatusCode::BAD_REQUEST,
                format!(
                    "Erreur de syntaxe dans le paramètre siren={siren} : 9 chiffres avec une clé de Luhn attendus"
                ),
            ),
            siren,
        );
    }
    let p = &core.population;
    let response = match p.company_by_siren(&siren) {
        None if core.defects.has(Defect::InseeAnswers200ForUnknownSiren) => json_response(
            StatusCode::OK,
            &json!({"header": {"statut": 200, "message": "OK"}, "uniteLegale": {"siren": siren}}),
        ),
        None => error(
            &core,
            StatusCode::NOT_FOUND,
            format!("Aucun élément trouvé pour le siren {siren}"),
        ),
        Some(c)
            if c.diffusion == Diffusion::NonDiffusible
                && !core.defects.has(Defect::InseeServesNonDiffusible) =>
        {
            error(&core, StatusCode::FORBIDDEN, "Unité légale non diffusable")
        }
        Some(c) => kept_ok(&core, &format!("siren:{siren}"), || UniteLegaleBody {
            header: OK,
            unite_legale: build_unite_legale(p, c, true),
        }),
    };
    with_subject(response, siren)
}

async fn etablissement(State(core): State<PartyCore>, Path(siret): Path<String>) -> Response {
    if !ids::is_valid_siret(&siret) {
        return with_subject(
            error(
                &core,
                StatusCode::BAD_REQUEST,
                format!(
                    "Erreur de syntaxe dans le paramètre siret={siret} : 14 chiffres avec une clé de Luhn attendus"
                ),
            ),
            siret,
        );
    }
    let p = &core.population;
    let response = match p.establishment_by_siret(&siret) {
        None => error(
            &core,
            StatusCode::NOT_FOUND,
            format!("Aucun élément trouvé pour le siret {siret}"),
        ),
        Some((c, _)) if c.diffusion == Diffusion::NonDiffusible => {
            error(&core, StatusCode::FORBIDDEN, "Établissement non diffusable")
        }
        Some((c, e)) => kept_ok(&core, &format!("siret:{siret}"), || EtablissementBody {
            header: OK,
            etablissement: build_etablissement(p, c, e),
        }),
    };
    with_subject(response, siret)
}

/// `/siret?q=siren:NNN`: the establishments of a unit. Only this query form is supported.
async fn etablissements(State(core): State<PartyCore>, RawQuery(raw): RawQuery) -> Response {
    let pairs = query_pairs(raw.as_deref());
    let Some(q) = param(&pairs, "q") else {
        return error(
            &core,
            StatusCode::BAD_REQUEST,
            "Le paramètre q est obligatoire (seule la forme q=siren:XXXXXXXXX est simulée)",
        );
    };
    let Some(siren) = q.strip_prefix("siren:") else {
        return error(
            &core,
            StatusCode::BAD_REQUEST,
            format!(
                "Erreur de syntaxe dans le paramètre q={q} : seule la forme siren:XXXXXXXXX est simulée"
            ),
        );
    };
    let nombre: usize = match param(&pairs, "nombre").map(str::parse).transpose() {
        Ok(n) => n.unwrap_or(20).min(1000),
        Err(_) => {
            return error(
                &core,
                StatusCode::BAD_REQUEST,
                "Le paramètre nombre doit être un entier",
            );
        }
    };
    let p = &core.population;
    let response = match p.company_by_siren(siren) {
        None => error(
            &core,
            StatusCode::NOT_FOUND,
            format!("Aucun élément trouvé pour la requête q={q}"),
        ),
        Some(c) if c.diffusion == Diffusion::NonDiffusible => {
            error(&core, StatusCode::FORBIDDEN, "Unité légale non diffusable")
        }
        Some(c) => {
            let etablissements: Vec<Etablissement> = c
                .establishments
                .iter()
                .take(nombre)
                .map(|e| build_etablissement(p, c, e))
                .collect();
            let header = ListHeader {
                statut: 200,
                message: "OK",
                total: c.establishments.len(),
                debut: 0,
                nombre: etablissements.len(),
            };
            typed_ok(&EtablissementsBody {
                header,
                etablissements,
            })
        }
    };
    with_subject(response, siren.to_string())
}

/// Service state: INSEE's own health route, used as the ping.
async fn informations(State(core): State<PartyCore>) -> Response {
    let today = core.clock.now().format("%Y-%m-%d").to_string();
    json_response(
        StatusCode::OK,
        &json!({
            "etatService": "UP",
            "etatsDesServices": [
                {"Collection": "Unités Légales", "etatCollection": "UP"},
                {"Collection": "Établissements", "etatCollection": "UP"},
            ],
            "versionService": "3.11",
            "journalDesModifications": "https://www.sirene.fr/",
            "datesDernieresMisesAJourDesDonnees": [
                {"collection": "Unités Légales", "dateDerniereMiseADisposition": today, "dateDernierTraitementMaximum": today},
                {"collection": "Établissements", "dateDerniereMiseADisposition": today, "dateDernierTraitementMaximum": today},
            ],
        }),
    )
}

/// The OpenAPI 3.1 document of the simulated Sirene API.
pub fn openapi(base_url: &str, p: &Population) -> Value {
    let example = p.example_company();
    let header = json!({"type": "object", "required": ["statut", "message"], "properties": {"statut": {"type": "integer"}, "message": {"type": "string"}}});
    let error = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"type": "object", "required": ["header"], "properties": {"header": {"$ref": "#/components/schemas/Header"}}}}}});
    openapi::document(
        (
            "API Sirene (simulated)",
            "3.11",
            "INSEE's Sirene register as the platform's hubs see it. Synthetic data.",
        ),
        base_url,
        json!({
            format!("{BASE}/siren/{{siren}}"): {"get": {
                "operationId": "uniteLegale", "summary": "Legal unit by SIREN",
                "parameters": [openapi::siren_parameter(&example.siren)],
                "responses": {
                    "200": {"description": "The unit and its periods", "content": {"application/json": {"schema": {"type": "object", "required": ["header", "uniteLegale"], "properties": {"header": {"$ref": "#/components/schemas/Header"}, "uniteLegale": {"type": "object", "required": ["siren", "statutDiffusionUniteLegale", "periodesUniteLegale"]}}}}}},
                    "400": error("Malformed SIREN"), "403": error("Unit never diffused"), "404": error("Unknown SIREN"),
                }}},
            format!("{BASE}/siret/{{siret}}"): {"get": {
                "operationId": "etablissement", "summary": "Establishment by SIRET",
                "parameters": [openapi::siret_parameter(&example.head_office().siret)],
                "responses": {
                    "200": {"description": "The establishment with its unit", "content": {"application/json": {"schema": {"type": "object", "required": ["header", "etablissement"], "properties": {"header": {"$ref": "#/components/schemas/Header"}, "etablissement": {"type": "object", "required": ["siret", "adresseEtablissement", "uniteLegale"]}}}}}},
                    "400": error("Malformed SIRET"), "403": error("Establishment never diffused"), "404": error("Unknown SIRET"),
                }}},
            format!("{BASE}/siret"): {"get": {
                "operationId": "etablissements", "summary": "Establishments of a unit (q=siren:XXXXXXXXX only)",
                "parameters": [
                    {"name": "q", "in": "query", "required": true, "schema": {"type": "string", "pattern": "^siren:[0-9]{9}$"}, "example": format!("siren:{}", example.siren)},
                    {"name": "nombre", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0, "maximum": 1000}},
                ],
                "responses": {
                    "200": {"description": "Establishments", "content": {"application/json": {"schema": {"type": "object", "required": ["header", "etablissements"]}}}},
                    "400": error("Unsupported query"), "403": error("Unit never diffused"), "404": error("Unknown SIREN"),
                }}},
            format!("{BASE}/informations"): {"get": {
                "operationId": "informations", "summary": "Service state (ping)",
                "responses": {"200": {"description": "Service state", "content": {"application/json": {"schema": {"type": "object", "required": ["etatService"]}}}}}}},
        }),
        json!({"schemas": {"Header": header}}),
    )
}
