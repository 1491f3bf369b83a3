//! URSSAF, attestations de vigilance: whether a company is up to date with its social
//! contributions, the attestation as PDF, and the verification of its security code.
//!
//! The attestation covers the last fully analysed month; it is valid six months after it, to the
//! end of the month (the hub computes and shows those dates; the PDF prints them too). Errors are
//! the attestation system's `{"errors":[{"code","message","description"}]}` with `FUNC` codes.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use serde_json::{Value, json};

use super::ymd;
use crate::http::openapi;
use crate::http::{PartyApp, PartyCore, PartyId, json_response, pdf_response, with_subject};
use crate::http::{param, query_pairs};
use crate::pdf::{self, Certificate};
use crate::population::{Company, Population, UrssafStatus, ids};

const BASE: &str = "/api/v1";

/// The URSSAF party.
pub fn app(population: Arc<Population>) -> PartyApp {
    let core = PartyCore::new(PartyId::URSSAF, population);
    let router = crate::http::Routes::new()
        .get(
            &format!("{BASE}/attestations/vigilance/{{siren}}"),
            attestation,
        )
        .get(
            &format!("{BASE}/attestations/vigilance/{{siren}}/document.pdf"),
            attestation_pdf,
        )
        .get(&format!("{BASE}/attestations/verification"), verification)
        .get(&format!("{BASE}/ping"), || async {
            json_response(StatusCode::OK, &json!({"status": "ok"}))
        })
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "TECH404",
                "Ressource inconnue",
                "Aucune ressource à cette adresse",
            )
        })
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "TECH405",
                "Méthode non autorisée",
                "Seule la méthode GET est acceptée",
            )
        })
        .with_state(core.clone());
    PartyApp::registered(core, router, openapi).with_rejection(|s, d| {
        let code = format!("TECH{}", s.as_u16());
        error(s, &code, crate::http::layer::reason_fr(s), d)
    })
}

fn error(
    status: StatusCode,
    code: &str,
    message: &str,
    description: impl Into<String>,
) -> Response {
    json_response(
        status,
        &json!({"errors": [{"code": code, "message": message, "description": description.into()}]}),
    )
}

/// First day of the last fully analysed month, seen from `today`.
pub fn analysed_month(today: NaiveDate) -> NaiveDate {
    let first = today.with_day(1).unwrap_or(today);
    first
        .pred_opt()
        .and_then(|d| d.with_day(1))
        .unwrap_or(first)
}

/// Last day of the sixth month after the analysed month: the attestation's end of validity.
pub fn validity_end(analysed: NaiveDate) -> NaiveDate {
    let months = analysed.year() * 12 + analysed.month0() as i32 + 7;
    let first_after =
        NaiveDate::from_ymd_opt(months / 12, (months % 12) as u32 + 1, 1).unwrap_or(analysed);
    first_after.pred_opt().unwrap_or(first_after)
}

/// The validity end this URSSAF states (the catalogue's defect states a year instead of six months).
fn stated_validity_end(core: &PartyCore, analysed: NaiveDate) -> NaiveDate {
    if core
        .defects
        .has(crate::defects::Defect::UrssafValidityDatesWrong)
    {
        validity_end(validity_end(analysed))
    } else {
        validity_end(analysed)
    }
}

fn security_code(core: &PartyCore, siren: &str, analysed: NaiveDate) -> String {
    pdf::verification_code(
        &core.secret,
        &["vigilance", siren, &analysed.format("%Y-%m").to_string()],
    )
}

fn lookup<'a>(core: &'a PartyCore, siren: &str) -> Result<&'a Company, Response> {
    if !ids::is_valid_siren(siren) && siren != ids::LA_POSTE_SIREN {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "FUNC502",
            "Le format du Siren est invalide",
            format!("{siren} : 9 chiffres avec une clé de Luhn attendus"),
        ));
    }
    match core.population.company_by_siren(siren) {
        Some(c) if c.urssaf != UrssafStatus::OutsidePerimeter => Ok(c),
        _ => Err(error(
            StatusCode::NOT_FOUND,
            "FUNC517",
            "Le Siren est inconnu",
            "Le siren est inconnu du SI Attestations, radié ou hors périmètre",
        )),
    }
}

async fn attestation(State(core): State<PartyCore>, Path(siren): Path<String>) -> Response {
    let c = match lookup(&core, &siren) {
        Ok(c) => c,
        Err(e) => return with_subject(e, siren),
    };
    let today = core.clock.now().date_naive();
    let analysed = analysed_month(today);
    let body = match c.urssaf {
        UrssafStatus::UpToDate => json!({
            "siren": c.siren,
            "raisonSociale": c.name,
            "statut": "DELIVREE",
            "dateEmission": ymd(today),
            "periodeAnalysee": analysed.format("%Y-%m").to_string(),
            "codeSecurite": security_code(&core, &c.siren, analysed),
            "urlDocument": format!("{BASE}/attestations/vigilance/{}/document.pdf", c.siren),
        }),
        UrssafStatus::Refused => json!({
            "siren": c.siren,
            "raisonSociale": c.name,
            "statut": "REFUS_DE_DELIVRANCE",
            "motif": "L'entreprise n'est pas à jour de ses déclarations et paiements de cotisations sociales.",
        }),
        UrssafStatus::ManualReview => json!({
            "siren": c.siren,
            "raisonSociale": c.name,
            "statut": "EN_COURS_DE_TRAITEMENT_MANUEL",
            "motif": "La situation du compte nécessite une analyse par un gestionnaire.",
            "delaiTraitementJours": 2,
        }),
        UrssafStatus::OutsidePerimeter => unreachable!("filtered by lookup"),
    };
    with_subject(json_response(StatusCode::OK, &body), siren)
}

async fn attestation_pdf(State(core): State<PartyCore>, Path(siren): Path<String>) -> Response {
    let c = match lookup(&core, &siren) {
        Ok(c) => c,
        Err(e) => return with_subject(e, siren),
    };
    if c.urssaf != UrssafStatus::UpToDate {
        return with_subject(
            error(
                StatusCode::NOT_FOUND,
                "FUNC520",
                "Aucune attestation délivrable",
                "L'attestation de vigilance n'a pas été délivrée pour cette entreprise",
            ),
            siren,
        );
    }
    let today = core.clock.now().date_naive();
    let analysed = analysed_month(today);
    let head = c.head_office();
    let cert = Certificate {
        issuer: "URSSAF — Union de recouvrement des cotisations de sécurité sociale et d'allocations familiales".into(),
        title: "Attestation de vigilance".into(),
        intro: format!(
            "L'Urssaf atteste que l'entreprise désignée ci-dessous est à jour de ses obligations de déclaration et de paiement des cotisations et contributions sociales au {} (articles L.243-15 et D.243-15 du code de la sécurité sociale).",
            analysed.format("%m/%Y")
        ),
        fields: vec![
            ("SIREN".into(), c.siren.clone()),
            ("Raison sociale".into(), c.name.clone()),
            ("Adresse".into(), format!("{} {}", head.address.line(), head.address.city_line())),
            ("Date d'émission".into(), today.format("%d/%m/%Y").to_string()),
            ("Période analysée".into(), analysed.format("%m/%Y").to_string()),
            ("Valable jusqu'au".into(), stated_validity_end(&core, analysed).format("%d/%m/%Y").to_string()),
        ],
        verification_code: security_code(&core, &c.siren, analysed),
        verification_hint: "Le donneur d'ordre vérifie l'authenticité de cette attestation avec le SIREN et ce code de sécurité sur le service de vérification de l'Urssaf.".into(),
        footer: "Document produit par le simulateur de l'État plateforme à partir de données synthétiques. Il n'a aucune valeur légale.".into(),
    };
    with_subject(
        pdf_response(
            pdf::render(&cert),
            &format!("attestation-vigilance-{}.pdf", c.siren),
        ),
        siren,
    )
}

/// `?siren=&code=`: whether the code belongs to an attestation still valid today.
async fn verification(State(core): State<PartyCore>, RawQuery(raw): RawQuery) -> Response {
    let pairs = query_pairs(raw.as_deref());
    let (Some(siren), Some(code)) = (param(&pairs, "siren"), param(&pairs, "code")) else {
        return error(
            StatusCode::BAD_REQUEST,
            "FUNC501",
            "Paramètre manquant",
            "Les paramètres siren et code sont obligatoires",
        );
    };
    let c = match lookup(&core, siren) {
        Ok(c) => c,
        Err(e) => return with_subject(e, siren.to_string()),
    };
    let today = core.clock.now().date_naive();
    // Attestations of the last six analysed months are still valid.
    let mut month = analysed_month(today);
    let mut found = None;
    for _ in 0..6 {
        if c.urssaf == UrssafStatus::UpToDate
            && (security_code(&core, &c.siren, month) == code.to_uppercase()
                || core
                    .defects
                    .has(crate::defects::Defect::UrssafVerifiesAnyCode))
            && stated_validity_end(&core, month) >= today
        {
            found = Some(month);
            break;
        }
        month = analysed_month(month);
    }
    let body = match found {
        Some(m) => {
            json!({"valide": true, "siren": c.siren, "periodeAnalysee": m.format("%Y-%m").to_string(), "dateFinValidite": ymd(stated_validity_end(&core, m))})
        }
        None => json!({"valide": false, "siren": c.siren}),
    };
    with_subject(json_response(StatusCode::OK, &body), siren.to_string())
}

/// The OpenAPI 3.1 document of the simulated URSSAF attestation API.
pub fn openapi(base_url: &str, p: &Population) -> Value {
    let example = p.example_company();
    let error = |d: &str| openapi::json_ref(d, "Errors");
    let siren = openapi::siren_parameter(&example.siren);
    openapi::document(
        (
            "URSSAF attestations (simulated)",
            "1.0",
            "Attestations de vigilance. Synthetic data.",
        ),
        base_url,
        json!({
            format!("{BASE}/attestations/vigilance/{{siren}}"): {"get": {
                "operationId": "attestationVigilance", "summary": "Attestation status: DELIVREE, REFUS_DE_DELIVRANCE or EN_COURS_DE_TRAITEMENT_MANUEL",
                "parameters": [siren],
                "responses": {
                    "200": {"description": "Status", "content": {"application/json": {"schema": {"type": "object", "required": ["siren", "statut"], "properties": {"statut": {"enum": ["DELIVREE", "REFUS_DE_DELIVRANCE", "EN_COURS_DE_TRAITEMENT_MANUEL"]}}}}}},
                    "400": error("Malformed SIREN (FUNC502)"), "404": error("Unknown, struck off or outside the perimeter (FUNC517)"),
                }}},
            format!("{BASE}/attestations/vigilance/{{siren}}/document.pdf"): openapi::pdf_document("attestationVigilancePdf", "The attestation as PDF", vec![siren.clone()], &[("400", error("Malformed SIREN")), ("404", error("No attestation delivered (FUNC517, FUNC520)"))]),
            format!("{BASE}/attestations/verification"): openapi::code_verification("verification", "Checks a security code", &example.siren, &[("400", error("Missing parameter (FUNC501) or malformed SIREN")), ("404", error("Unknown SIREN (FUNC517)"))]),
            format!("{BASE}/ping"): openapi::ping(),
        }),
        json!({"schemas": {"Errors": {"type": "object", "required": ["errors"], "properties": {"errors": {"type": "array", "items": {"type": "object", "required": ["code", "message", "description"]}}}}}}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_is_six_months_after_the_analysed_month_to_month_end() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(analysed_month(d(2026, 11, 22)), d(2026, 10, 1));
        assert_eq!(analysed_month(d(2026, 1, 5)), d(2025, 12, 1));
        assert_eq!(validity_end(d(2026, 10, 1)), d(2027, 4, 30));
        assert_eq!(validity_end(d(2025, 8, 1)), d(2026, 2, 28));
    }
}
