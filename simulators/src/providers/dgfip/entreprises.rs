//! The DGFiP's professional APIs: the attestation de régularité fiscale (JSON, PDF, code check)
//! and a company's turnover.

use super::*;

/// Last day of the month before `today`: the period an attestation fiscale covers.
pub(super) fn analysed_period(today: NaiveDate) -> NaiveDate {
    today
        .with_day(1)
        .and_then(|d| d.pred_opt())
        .unwrap_or(today)
}

pub(super) fn attestation_code(s: &DgfipState, siren: &str, period: NaiveDate) -> String {
    pdf::verification_code(
        &s.core.secret,
        &["attestation-fiscale", siren, &ymd(period)],
    )
}

pub(super) fn company<'a>(
    s: &'a DgfipState,
    siren: &str,
    headers: &HeaderMap,
) -> Result<&'a Company, Response> {
    if !ids::is_valid_siren(siren) && siren != ids::LA_POSTE_SIREN {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "SIREN_INVALIDE",
            "Le SIREN doit comporter 9 chiffres et une clé de Luhn valide",
            headers,
        ));
    }
    match s.core.population.company_by_siren(siren) {
        Some(c) if c.fiscal != FiscalStatus::OutsidePerimeter => Ok(c),
        Some(_) => Err(error(
            StatusCode::NOT_FOUND,
            "ENTREPRISE_HORS_PERIMETRE",
            "L'entreprise n'est pas dans le périmètre des attestations fiscales",
            headers,
        )),
        None => Err(error(
            StatusCode::NOT_FOUND,
            "ENTREPRISE_INCONNUE",
            "Aucune entreprise ne correspond à ce SIREN",
            headers,
        )),
    }
}

pub(super) async fn attestation_fiscale(
    State(s): State<DgfipState>,
    Path(siren): Path<String>,
    headers: HeaderMap,
) -> Response {
    let client = match authorize(&s, &headers, scopes::ATTESTATION_FISCALE) {
        Ok(c) => c,
        Err(e) => return with_subject(e, siren),
    };
    let c = match company(&s, &siren, &headers) {
        Ok(c) => c,
        Err(e) => return with_caller(with_subject(e, siren), &client),
    };
    let today = s.core.clock.now().date_naive();
    let period = analysed_period(today);
    let body = match c.fiscal {
        FiscalStatus::Compliant => json!({
            "siren": c.siren,
            "raisonSociale": c.name,
            "statut": "DELIVREE",
            "dateDelivrance": ymd(today),
            "periodeAnalysee": ymd(period),
            "codeVerification": attestation_code(&s, &c.siren, period),
            "urlDocument": format!("{ENTREPRISES}/attestationfiscale/{}/document.pdf", c.siren),
        }),
        _ => json!({
            "siren": c.siren,
            "raisonSociale": c.name,
            "statut": "NON_DELIVRABLE",
            "motif": "L'entreprise ne satisfait pas à ses obligations de déclaration et de paiement des impôts.",
        }),
    };
    with_caller(
        with_subject(json_response(StatusCode::OK, &body), siren),
        &client,
    )
}

pub(super) async fn attestation_fiscale_pdf(
    State(s): State<DgfipState>,
    Path(siren): Path<String>,
    headers: HeaderMap,
) -> Response {
    let client = match authorize(&s, &headers, scopes::ATTESTATION_FISCALE) {
        Ok(c) => c,
        Err(e) => return with_subject(e, siren),
    };
    let c = match company(&s, &siren, &headers) {
        Ok(c) if c.fiscal == FiscalStatus::Compliant => c,
        Ok(_) => {
            return with_caller(
                with_subject(
                    error(
                        StatusCode::NOT_FOUND,
                        "ATTESTATION_NON_DELIVRABLE",
                        "Aucune attestation délivrable",
                        &headers,
                    ),
                    siren,
                ),
                &client,
            );
        }
        Err(e) => return with_caller(with_subject(e, siren), &client),
    };
    let today = s.core.clock.now().date_naive();
    let period = analysed_period(today);
    let head = c.head_office();
    let cert = Certificate {
        issuer: "Direction générale des Finances publiques".into(),
        title: "Attestation de régularité fiscale".into(),
        intro: format!(
            "La DGFiP atteste que l'entreprise désignée ci-dessous a souscrit ses déclarations fiscales et acquitté les impôts et taxes exigibles au {}.",
            period.format("%d/%m/%Y")
        ),
        fields: vec![
            ("SIREN".into(), c.siren.clone()),
            ("Raison sociale".into(), c.name.clone()),
            ("Adresse".into(), format!("{} {}", head.address.line(), head.address.city_line())),
            ("Date de délivrance".into(), today.format("%d/%m/%Y").to_string()),
            ("Situation analysée au".into(), period.format("%d/%m/%Y").to_string()),
        ],
        verification_code: attestation_code(&s, &c.siren, period),
        verification_hint: "Le destinataire vérifie l'authenticité de cette attestation avec le SIREN et ce code auprès de la DGFiP.".into(),
        footer: "Document produit par le simulateur de l'État plateforme à partir de données synthétiques. Il n'a aucune valeur légale.".into(),
    };
    with_caller(
        with_subject(
            pdf_response(
                pdf::render(&cert),
                &format!("attestation-fiscale-{}.pdf", c.siren),
            ),
            siren,
        ),
        &client,
    )
}

/// `?siren=&code=`: whether the code belongs to an attestation of the last twelve months.
pub(super) async fn verification(
    State(s): State<DgfipState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let pairs = query_pairs(raw.as_deref());
    let (Some(siren), Some(code)) = (param(&pairs, "siren"), param(&pairs, "code")) else {
        return error(
            StatusCode::BAD_REQUEST,
            "PARAMETRE_MANQUANT",
            "Les paramètres siren et code sont obligatoires",
            &headers,
        );
    };
    let c = match company(&s, siren, &headers) {
        Ok(c) => c,
        Err(e) => return with_subject(e, siren.to_string()),
    };
    let mut period = analysed_period(s.core.clock.now().date_naive());
    let mut found = None;
    for _ in 0..12 {
        if c.fiscal == FiscalStatus::Compliant
            && attestation_code(&s, &c.siren, period) == code.to_uppercase()
        {
            found = Some(period);
            break;
        }
        period = analysed_period(period);
    }
    let body = match found {
        Some(p) => json!({"valide": true, "siren": c.siren, "periodeAnalysee": ymd(p)}),
        None => json!({"valide": false, "siren": c.siren}),
    };
    with_subject(json_response(StatusCode::OK, &body), siren.to_string())
}

pub(super) async fn chiffres_affaires(
    State(s): State<DgfipState>,
    Path(siret): Path<String>,
    headers: HeaderMap,
) -> Response {
    let client = match authorize(&s, &headers, scopes::CHIFFRES_AFFAIRES) {
        Ok(c) => c,
        Err(e) => return with_subject(e, siret),
    };
    let response = if !ids::is_valid_siret(&siret) {
        error(
            StatusCode::BAD_REQUEST,
            "SIRET_INVALIDE",
            "Le SIRET doit comporter 14 chiffres et une clé de Luhn valide",
            &headers,
        )
    } else {
        match s.core.population.establishment_by_siret(&siret) {
            None => error(
                StatusCode::NOT_FOUND,
                "ENTREPRISE_INCONNUE",
                "Aucun établissement ne correspond à ce SIRET",
                &headers,
            ),
            Some((c, _)) if c.ceased.is_some() || c.fiscal == FiscalStatus::OutsidePerimeter => {
                error(
                    StatusCode::NOT_FOUND,
                    "DONNEES_INDISPONIBLES",
                    "Aucun chiffre d'affaires déclaré pour cette entreprise",
                    &headers,
                )
            }
            Some((c, _)) => {
                let list: Vec<Value> = c
                    .turnover
                    .iter()
                    .rev()
                    .map(|(year, amount)| json!({"ca": amount, "dateFinExercice": format!("{year}-12-31")}))
                    .collect();
                json_response(StatusCode::OK, &json!({"liste_ca": list}))
            }
        }
    };
    with_caller(with_subject(response, siret), &client)
}
