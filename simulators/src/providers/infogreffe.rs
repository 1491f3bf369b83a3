//! Infogreffe, the commercial courts' registry (RCS): the data of a Kbis extract as JSON, the
//! extract itself as PDF, and the verification of an extract's code.
//!
//! Errors are Infogreffe's `{"code", "message"}`. Units absent from the RCS (associations,
//! unregistered sole traders) are 404 `ENTREPRISE_NON_IMMATRICULEE`.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde_json::{Value, json};

use super::ymd;
use crate::http::openapi;
use crate::http::{PartyApp, PartyCore, PartyId, json_response, pdf_response, with_subject};
use crate::http::{param, query_pairs};
use crate::pdf::{self, Certificate};
use crate::population::{Company, Population, RcsEntry, ids, referentials as refs};

const BASE: &str = "/api/v1";

/// How long an extract stays verifiable: a Kbis is trusted for three months.
const VERIFIABLE_DAYS: i64 = 92;

/// The Infogreffe party.
pub fn app(population: Arc<Population>) -> PartyApp {
    let core = PartyCore::new(PartyId::INFOGREFFE, population);
    let router = crate::http::Routes::new()
        .get(
            &format!("{BASE}/entreprises/{{siren}}/extrait-rcs"),
            extrait_rcs,
        )
        .get(
            &format!("{BASE}/entreprises/{{siren}}/extrait-kbis.pdf"),
            extrait_kbis_pdf,
        )
        .get(&format!("{BASE}/verification"), verification)
        .get(&format!("{BASE}/ping"), ping)
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "RESSOURCE_INCONNUE",
                "Ressource inconnue",
            )
        })
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHODE_NON_AUTORISEE",
                "Méthode non autorisée",
            )
        })
        .with_state(core.clone());
    PartyApp::registered(core, router, openapi).with_rejection(rejection)
}

/// What the plumbing refuses, as the greffe words its errors.
fn rejection(status: StatusCode, detail: &str) -> Response {
    let code = super::refusal_code(status);
    error(
        status,
        code,
        format!("{} : {detail}", crate::http::layer::reason_fr(status)),
    )
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    json_response(status, &json!({"code": code, "message": message.into()}))
}

/// The greffe's own legal-form code (not INSEE's catégorie juridique).
fn greffe_legal_form(code: &str) -> &'static str {
    match code {
        "5710" => "SAS",
        "5720" => "SASU",
        "5499" => "SARL",
        "5498" => "EURL",
        "5599" => "SA",
        "5202" => "SNC",
        "5485" => "SELARL",
        "6540" => "SCI",
        "6533" => "GAEC",
        "1000" => "EI",
        _ => "AUTRE",
    }
}

/// Numéro de gestion: registration year, `A` (natural person) or `B` (company), five digits.
fn numero_gestion(c: &Company, rcs: &RcsEntry) -> String {
    let kind = if c.is_natural_person() { 'A' } else { 'B' };
    format!("{}{kind}{}", rcs.registered.format("%Y"), &c.siren[3..8])
}

fn code_for(core: &PartyCore, siren: &str, day: NaiveDate) -> String {
    pdf::verification_code(&core.secret, &["kbis", siren, &ymd(day)])
}

/// Looks the company up, or answers the error Infogreffe would.
fn registered<'a>(
    core: &'a PartyCore,
    siren: &str,
) -> Result<(&'a Company, &'a RcsEntry), Response> {
    if !ids::is_valid_siren(siren) && siren != ids::LA_POSTE_SIREN {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "SIREN_INVALIDE",
            format!("Le SIREN {siren} est invalide (9 chiffres, clé de Luhn)"),
        ));
    }
    let Some(c) = core.population.company_by_siren(siren) else {
        return Err(error(
            StatusCode::NOT_FOUND,
            "ENTREPRISE_INCONNUE",
            format!("Aucune entreprise trouvée pour le SIREN {siren}"),
        ));
    };
    match &c.rcs {
        Some(rcs) => Ok((c, rcs)),
        None => Err(error(
            StatusCode::NOT_FOUND,
            "ENTREPRISE_NON_IMMATRICULEE",
            format!("L'entreprise {siren} n'est pas immatriculée au RCS"),
        )),
    }
}

fn extract_json(core: &PartyCore, c: &Company, rcs: &RcsEntry, today: NaiveDate) -> Value {
    let p = &core.population;
    let head = c.head_office();
    let officers: Vec<Value> = rcs
        .officers
        .iter()
        .map(|o| {
            let person = p.citizen(o.citizen);
            json!({
                "type": "PP",
                "qualite": o.role,
                "nom": person.family_name,
                "nom_usage": person.usage_name,
                "prenoms": person.given_names,
                "date_naissance": format!("{:04}-{:02}", person.birth_date.year, person.birth_date.month.max(1)),
                "code_pays_naissance": person.birthcountry,
            })
        })
        .collect();
    let owner = c.owner.map(|o| p.citizen(o));
    json!({
        "siren": c.siren,
        "numero_gestion": numero_gestion(c, rcs),
        "date_extrait": ymd(today),
        "date_immatriculation": ymd(rcs.registered),
        "date_radiation": rcs.struck_off.map(ymd),
        "greffe": {"code": rcs.greffe_code, "libelle": rcs.greffe_name},
        "denomination": (!c.is_natural_person()).then_some(&c.name),
        "personne_physique": owner.map(|o| json!({"nom": o.family_name, "prenoms": o.given_names, "date_naissance": format!("{:04}-{:02}", o.birth_date.year, o.birth_date.month.max(1))})),
        "forme_juridique": {"code": greffe_legal_form(&c.legal_form), "libelle": refs::legal_form_label(&c.legal_form)},
        "capital": (!c.is_natural_person()).then(|| json!({"montant": rcs.capital, "devise": "EUR"})),
        "adresse_siege": {"ligne": head.address.line(), "code_postal": head.address.postal_code, "commune": head.address.city.to_uppercase(), "code_commune": head.address.commune_cog},
        "activite_principale": refs::naf_label(&c.naf),
        "code_ape": c.naf,
        "etablissement_principal": {"siret": head.siret, "origine_fonds": "CREATION", "mode_exploitation": "EXPLOITATION DIRECTE"},
        "mandataires_sociaux": officers,
        "observations": rcs.struck_off.map(|d| vec![json!({"numero": "1", "libelle": "Radiation d'office", "date": ymd(d)})]).unwrap_or_default(),
        "code_verification": code_for(core, &c.siren, today),
        "document_url": format!("{BASE}/entreprises/{}/extrait-kbis.pdf", c.siren),
    })
}

async fn extrait_rcs(State(core): State<PartyCore>, Path(siren): Path<String>) -> Response {
    let response = match registered(&core, &siren) {
        Ok((c, rcs)) => {
            let mut extract = extract_json(&core, c, rcs, core.clock.now().date_naive());
            if core
                .defects
                .has(crate::defects::Defect::InfogreffeOmitsOfficers)
            {
                extract["mandataires_sociaux"] = json!([]);
            }
            json_response(StatusCode::OK, &extract)
        }
        Err(e) => e,
    };
    with_subject(response, siren)
}

async fn extrait_kbis_pdf(State(core): State<PartyCore>, Path(siren): Path<String>) -> Response {
    let (c, rcs) = match registered(&core, &siren) {
        Ok(found) => found,
        Err(e) => return with_subject(e, siren),
    };
    let today = core.clock.now().date_naive();
    let p = &core.population;
    let head = c.head_office();
    let mut fields = vec![
        (
            "Immatriculation".to_string(),
            format!(
                "{} RCS {}",
                c.siren,
                rcs.greffe_name.rsplit(' ').next().unwrap_or("")
            ),
        ),
        ("Numéro de gestion".to_string(), numero_gestion(c, rcs)),
        (
            "Date d'immatriculation".to_string(),
            rcs.registered.format("%d/%m/%Y").to_string(),
        ),
        ("Dénomination".to_string(), c.name.clone()),
        (
            "Forme juridique".to_string(),
            refs::legal_form_label(&c.legal_form)
                .unwrap_or("")
                .to_string(),
        ),
        ("Capital social".to_string(), format!("{} EUR", rcs.capital)),
        (
            "Adresse du siège".to_string(),
            format!("{} {}", head.address.line(), head.address.city_line()),
        ),
        (
            "Activité principale".to_string(),
            refs::naf_label(&c.naf).unwrap_or("").to_string(),
        ),
    ];
    for o in &rcs.officers {
        let person = p.citizen(o.citizen);
        fields.push((
            o.role.clone(),
            format!("{} {}", person.family_name, person.given_names),
        ));
    }
    if let Some(d) = rcs.struck_off {
        fields.push(("Radiation".to_string(), d.format("%d/%m/%Y").to_string()));
    }
    let cert = Certificate {
        issuer: rcs.greffe_name.clone(),
        title: "Extrait Kbis".into(),
        intro: format!("Extrait d'immatriculation principale au registre du commerce et des sociétés, à jour au {}.", today.format("%d/%m/%Y")),
        fields,
        verification_code: code_for(&core, &c.siren, today),
        verification_hint: "Vérifiez l'authenticité de cet extrait avec le SIREN et ce code sur le service de vérification d'Infogreffe.".into(),
        footer: "Document produit par le simulateur de l'État plateforme à partir de données synthétiques. Il n'a aucune valeur légale.".into(),
    };
    with_subject(
        pdf_response(pdf::render(&cert), &format!("kbis-{}.pdf", c.siren)),
        siren,
    )
}

/// `?siren=&code=`: whether an extract with this code was issued in the last three months.
async fn verification(State(core): State<PartyCore>, RawQuery(raw): RawQuery) -> Response {
    let pairs = query_pairs(raw.as_deref());
    let (Some(siren), Some(code)) = (param(&pairs, "siren"), param(&pairs, "code")) else {
        return error(
            StatusCode::BAD_REQUEST,
            "PARAMETRE_MANQUANT",
            "Les paramètres siren et code sont obligatoires",
        );
    };
    if let Err(e) = registered(&core, siren) {
        return with_subject(e, siren.to_string());
    }
    let today = core.clock.now().date_naive();
    let issued = (0..VERIFIABLE_DAYS)
        .map(|d| today - chrono::Duration::days(d))
        .find(|day| code_for(&core, siren, *day) == code.to_uppercase());
    let body = match issued {
        Some(day) => json!({"valide": true, "siren": siren, "date_extrait": ymd(day)}),
        None => json!({"valide": false, "siren": siren}),
    };
    with_subject(json_response(StatusCode::OK, &body), siren.to_string())
}

async fn ping() -> Response {
    json_response(StatusCode::OK, &json!({"status": "ok"}))
}

/// The OpenAPI 3.1 document of the simulated Infogreffe API.
pub fn openapi(base_url: &str, p: &Population) -> Value {
    let example = p.example_company();
    let error = |d: &str| openapi::json_ref(d, "Error");
    let siren = openapi::siren_parameter(&example.siren);
    openapi::document(
        (
            "Infogreffe RCS (simulated)",
            "1.0",
            "Kbis extracts of the RCS. Synthetic data.",
        ),
        base_url,
        json!({
            format!("{BASE}/entreprises/{{siren}}/extrait-rcs"): {"get": {
                "operationId": "extraitRcs", "summary": "Kbis data",
                "parameters": [siren],
                "responses": {
                    "200": {"description": "Extract", "content": {"application/json": {"schema": {"type": "object", "required": ["siren", "date_immatriculation", "greffe", "mandataires_sociaux", "code_verification"]}}}},
                    "400": error("Malformed SIREN"), "404": error("Unknown or not registered"),
                }}},
            format!("{BASE}/entreprises/{{siren}}/extrait-kbis.pdf"): openapi::pdf_document("extraitKbisPdf", "Kbis extract as PDF", vec![siren.clone()], &[("400", error("Malformed SIREN")), ("404", error("Unknown or not registered"))]),
            format!("{BASE}/verification"): openapi::code_verification("verification", "Checks an extract's verification code", &example.siren, &[("400", error("Missing parameter or malformed SIREN")), ("404", error("Unknown or not registered"))]),
            format!("{BASE}/ping"): openapi::ping(),
        }),
        json!({"schemas": {"Error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}),
    )
}
