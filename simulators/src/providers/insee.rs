//! INSEE, API Sirene 3.11: legal units (`/siren/{siren}`), establishments (`/siret/{siret}`,
//! `/siret?q=siren:…`) and the service state (`/informations`).
//!
//! Shaped like the real API: a `header` with `statut` and `message`, camelCase fields suffixed
//! with the object (`denominationUniteLegale`), history in `periodes…`, dates `YYYY-MM-DD`.
//! Units never diffused (statut `N`) get 403, as INSEE refuses them; partially diffusible ones
//! (`P`) are served in full, since the platform's hubs hold the habilitation to see them.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::{param, query_pairs, ymd};
use crate::http::{PartyApp, PartyCore, Role, json_response, with_subject};
use crate::population::{Company, Diffusion, Establishment, Population, ids};

const BASE: &str = "/entreprises/sirene/V3.11";

/// The INSEE party.
pub fn app(population: Arc<Population>) -> PartyApp {
    let core = PartyCore::new("insee", population);
    let router = Router::new()
        .route(&format!("{BASE}/siren/{{siren}}"), get(unite_legale))
        .route(&format!("{BASE}/siret/{{siret}}"), get(etablissement))
        .route(&format!("{BASE}/siret"), get(etablissements))
        .route(&format!("{BASE}/informations"), get(informations))
        .fallback(not_found_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(core.clone());
    PartyApp {
        core,
        role: Role::Provider,
        title: "INSEE — API Sirene",
        router,
        openapi,
        reset: Arc::new(|| {}),
    }
}

/// INSEE's error body: the header alone.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    json_response(
        status,
        &json!({"header": {"statut": status.as_u16(), "message": message.into()}}),
    )
}

async fn not_found_route() -> Response {
    error(StatusCode::NOT_FOUND, "Ressource inconnue")
}

async fn method_not_allowed() -> Response {
    error(StatusCode::METHOD_NOT_ALLOWED, "Méthode non autorisée")
}

fn tranche_year(c: &Company) -> Option<String> {
    (c.headcount_band != "NN").then(|| {
        (c.created
            .format("%Y")
            .to_string()
            .parse::<i32>()
            .unwrap_or(2020)
            .max(2022))
        .to_string()
    })
}

/// The legal-unit object, as nested in both routes (`full`: with its periods).
fn unite_legale_json(p: &Population, c: &Company, full: bool) -> Value {
    let owner = c.owner.map(|o| p.citizen(o));
    let given: Vec<&str> = owner
        .map(|o| o.given_names.split(' ').collect())
        .unwrap_or_default();
    let state_now = if c.ceased.is_some() { "C" } else { "A" };
    let naf = json!(c.naf);
    let mut ul = json!({
        "siren": c.siren,
        "statutDiffusionUniteLegale": c.diffusion.code(),
        "unitePurgeeUniteLegale": null,
        "dateCreationUniteLegale": ymd(c.created),
        "sigleUniteLegale": null,
        "sexeUniteLegale": owner.map(|o| o.gender.letter()),
        "prenom1UniteLegale": given.first(),
        "prenom2UniteLegale": given.get(1),
        "prenom3UniteLegale": given.get(2),
        "prenom4UniteLegale": given.get(3),
        "prenomUsuelUniteLegale": given.first(),
        "pseudonymeUniteLegale": null,
        "identifiantAssociationUniteLegale": (c.legal_form == "9220").then(|| format!("W{}", &c.siren[..9])),
        "trancheEffectifsUniteLegale": (c.headcount_band != "NN").then_some(&c.headcount_band),
        "anneeEffectifsUniteLegale": tranche_year(c),
        "dateDernierTraitementUniteLegale": format!("{}T00:00:00.000", ymd(c.ceased.unwrap_or(c.created))),
        "categorieEntreprise": c.category(),
        "anneeCategorieEntreprise": c.category().map(|_| "2023"),
    });
    let current = json!({
        "dateFin": null,
        "dateDebut": ymd(c.ceased.unwrap_or(c.created)),
        "etatAdministratifUniteLegale": state_now,
        "changementEtatAdministratifUniteLegale": c.ceased.is_some(),
        "nomUniteLegale": owner.map(|o| &o.family_name),
        "nomUsageUniteLegale": owner.and_then(|o| o.usage_name.as_ref()),
        "denominationUniteLegale": (!c.is_natural_person()).then_some(&c.name),
        "denominationUsuelle1UniteLegale": null,
        "categorieJuridiqueUniteLegale": c.legal_form,
        "activitePrincipaleUniteLegale": naf,
        "nomenclatureActivitePrincipaleUniteLegale": "NAFRev2",
        "nicSiegeUniteLegale": c.head_office().nic(),
        "economieSocialeSolidaireUniteLegale": if c.legal_form == "9220" { "O" } else { "N" },
        "societeMissionUniteLegale": null,
        "caractereEmployeurUniteLegale": if c.headcount_band == "NN" || c.headcount_band == "00" { "N" } else { "O" },
    });
    let obj = ul.as_object_mut().expect("object");
    if full {
        let mut periods = vec![current.clone()];
        if let Some(ceased) = c.ceased {
            let mut before = current.clone();
            before["dateFin"] = json!(ymd(ceased.pred_opt().unwrap_or(ceased)));
            before["dateDebut"] = json!(ymd(c.created));
            before["etatAdministratifUniteLegale"] = json!("A");
            before["changementEtatAdministratifUniteLegale"] = json!(false);
            periods.push(before);
        }
        obj.insert("nombrePeriodesUniteLegale".into(), json!(periods.len()));
        obj.insert("periodesUniteLegale".into(), json!(periods));
    } else {
        // Nested in an establishment, the unit is flattened to its current period.
        for (k, v) in current.as_object().expect("object") {
            if k != "dateFin" && k != "dateDebut" && k != "changementEtatAdministratifUniteLegale" {
                obj.insert(k.clone(), v.clone());
            }
        }
    }
    ul
}

fn etablissement_json(p: &Population, c: &Company, e: &Establishment) -> Value {
    let a = &e.address;
    json!({
        "siren": c.siren,
        "nic": e.nic(),
        "siret": e.siret,
        "statutDiffusionEtablissement": c.diffusion.code(),
        "dateCreationEtablissement": ymd(e.created),
        "trancheEffectifsEtablissement": (c.headcount_band != "NN").then_some(&c.headcount_band),
        "anneeEffectifsEtablissement": tranche_year(c),
        "activitePrincipaleRegistreMetiersEtablissement": null,
        "dateDernierTraitementEtablissement": format!("{}T00:00:00.000", ymd(e.closed.unwrap_or(e.created))),
        "etablissementSiege": e.head_office,
        "nombrePeriodesEtablissement": 1 + usize::from(e.closed.is_some()),
        "uniteLegale": unite_legale_json(p, c, false),
        "adresseEtablissement": {
            "complementAdresseEtablissement": null,
            "numeroVoieEtablissement": a.number.to_string(),
            "indiceRepetitionEtablissement": null,
            "typeVoieEtablissement": a.street_type,
            "libelleVoieEtablissement": a.street_name,
            "codePostalEtablissement": a.postal_code,
            "libelleCommuneEtablissement": a.city.to_uppercase(),
            "libelleCommuneEtrangerEtablissement": null,
            "distributionSpecialeEtablissement": null,
            "codeCommuneEtablissement": a.commune_cog,
            "codeCedexEtablissement": null,
            "libelleCedexEtablissement": null,
            "codePaysEtrangerEtablissement": null,
            "libellePaysEtrangerEtablissement": null,
        },
        "periodesEtablissement": [{
            "dateFin": null,
            "dateDebut": ymd(e.closed.unwrap_or(e.created)),
            "etatAdministratifEtablissement": if e.closed.is_some() { "F" } else { "A" },
            "changementEtatAdministratifEtablissement": e.closed.is_some(),
            "enseigne1Etablissement": e.sign,
            "denominationUsuelleEtablissement": null,
            "activitePrincipaleEtablissement": c.naf,
            "nomenclatureActivitePrincipaleEtablissement": "NAFRev2",
            "caractereEmployeurEtablissement": if c.headcount_band == "NN" || c.headcount_band == "00" { "N" } else { "O" },
        }],
    })
}

fn ok_header() -> Value {
    json!({"statut": 200, "message": "OK"})
}

async fn unite_legale(State(core): State<PartyCore>, Path(siren): Path<String>) -> Response {
    if !ids::is_valid_siren(&siren) && siren != ids::LA_POSTE_SIREN {
        return with_subject(
            error(
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
        None => error(
            StatusCode::NOT_FOUND,
            format!("Aucun élément trouvé pour le siren {siren}"),
        ),
        Some(c) if c.diffusion == Diffusion::NonDiffusible => {
            error(StatusCode::FORBIDDEN, "Unité légale non diffusable")
        }
        Some(c) => json_response(
            StatusCode::OK,
            &json!({"header": ok_header(), "uniteLegale": unite_legale_json(p, c, true)}),
        ),
    };
    with_subject(response, siren)
}

async fn etablissement(State(core): State<PartyCore>, Path(siret): Path<String>) -> Response {
    if !ids::is_valid_siret(&siret) {
        return with_subject(
            error(
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
            StatusCode::NOT_FOUND,
            format!("Aucun élément trouvé pour le siret {siret}"),
        ),
        Some((c, _)) if c.diffusion == Diffusion::NonDiffusible => {
            error(StatusCode::FORBIDDEN, "Établissement non diffusable")
        }
        Some((c, e)) => json_response(
            StatusCode::OK,
            &json!({"header": ok_header(), "etablissement": etablissement_json(p, c, e)}),
        ),
    };
    with_subject(response, siret)
}

/// `/siret?q=siren:NNN`: the establishments of a unit. Only this query form is supported.
async fn etablissements(State(core): State<PartyCore>, RawQuery(raw): RawQuery) -> Response {
    let pairs = query_pairs(raw.as_deref());
    let Some(q) = param(&pairs, "q") else {
        return error(
            StatusCode::BAD_REQUEST,
            "Le paramètre q est obligatoire (seule la forme q=siren:XXXXXXXXX est simulée)",
        );
    };
    let Some(siren) = q.strip_prefix("siren:") else {
        return error(
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
                StatusCode::BAD_REQUEST,
                "Le paramètre nombre doit être un entier",
            );
        }
    };
    let p = &core.population;
    let response = match p.company_by_siren(siren) {
        None => error(
            StatusCode::NOT_FOUND,
            format!("Aucun élément trouvé pour la requête q={q}"),
        ),
        Some(c) if c.diffusion == Diffusion::NonDiffusible => {
            error(StatusCode::FORBIDDEN, "Unité légale non diffusable")
        }
        Some(c) => {
            let list: Vec<Value> = c
                .establishments
                .iter()
                .take(nombre)
                .map(|e| etablissement_json(p, c, e))
                .collect();
            json_response(
                StatusCode::OK,
                &json!({"header": {"statut": 200, "message": "OK", "total": c.establishments.len(), "debut": 0, "nombre": list.len()}, "etablissements": list}),
            )
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
    let example = super::example_company(p);
    let header = json!({"type": "object", "required": ["statut", "message"], "properties": {"statut": {"type": "integer"}, "message": {"type": "string"}}});
    let error = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"type": "object", "required": ["header"], "properties": {"header": {"$ref": "#/components/schemas/Header"}}}}}});
    json!({
        "openapi": "3.1.0",
        "info": {"title": "API Sirene (simulated)", "version": "3.11", "description": "INSEE's Sirene register as the platform's hubs see it. Synthetic data."},
        "servers": [{"url": base_url}],
        "paths": {
            format!("{BASE}/siren/{{siren}}"): {"get": {
                "operationId": "uniteLegale", "summary": "Legal unit by SIREN",
                "parameters": [{"name": "siren", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9]{9}$"}, "example": example.siren}],
                "responses": {
                    "200": {"description": "The unit and its periods", "content": {"application/json": {"schema": {"type": "object", "required": ["header", "uniteLegale"], "properties": {"header": {"$ref": "#/components/schemas/Header"}, "uniteLegale": {"type": "object", "required": ["siren", "statutDiffusionUniteLegale", "periodesUniteLegale"]}}}}}},
                    "400": error("Malformed SIREN"), "403": error("Unit never diffused"), "404": error("Unknown SIREN"),
                }}},
            format!("{BASE}/siret/{{siret}}"): {"get": {
                "operationId": "etablissement", "summary": "Establishment by SIRET",
                "parameters": [{"name": "siret", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9]{14}$"}, "example": example.head_office().siret}],
                "responses": {
                    "200": {"description": "The establishment with its unit", "content": {"application/json": {"schema": {"type": "object", "required": ["header", "etablissement"], "properties": {"header": {"$ref": "#/components/schemas/Header"}, "etablissement": {"type": "object", "required": ["siret", "adresseEtablissement", "uniteLegale"]}}}}}},
                    "400": error("Malformed SIRET"), "403": error("Establishment never diffused"), "404": error("Unknown SIRET"),
                }}},
            format!("{BASE}/siret"): {"get": {
                "operationId": "etablissements", "summary": "Establishments of a unit (q=siren:XXXXXXXXX only)",
                "parameters": [
                    {"name": "q", "in": "query", "required": true, "schema": {"type": "string"}, "example": format!("siren:{}", example.siren)},
                    {"name": "nombre", "in": "query", "required": false, "schema": {"type": "integer", "maximum": 1000}},
                ],
                "responses": {
                    "200": {"description": "Establishments", "content": {"application/json": {"schema": {"type": "object", "required": ["header", "etablissements"]}}}},
                    "400": error("Unsupported query"), "403": error("Unit never diffused"), "404": error("Unknown SIREN"),
                }}},
            format!("{BASE}/informations"): {"get": {
                "operationId": "informations", "summary": "Service state (ping)",
                "responses": {"200": {"description": "Service state", "content": {"application/json": {"schema": {"type": "object", "required": ["etatService"]}}}}}}},
        },
        "components": {"schemas": {"Header": header}},
    })
}
