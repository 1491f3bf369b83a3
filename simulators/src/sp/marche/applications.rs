//! An application's life: written to the store before any hub call (an outage or a crash leaves
//! it incomplete, never lost), assembled, refreshed by its applicant.

use super::*;

/// Validates, creates, fetches and stores an application.
pub(super) async fn apply(
    m: &Marche,
    reference: &str,
    siret: &str,
    user: &SignedIn,
) -> Result<Application, SpError> {
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
        )
        .on_field("siret"));
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

pub(super) fn store(m: &Marche, app: &Application) -> Result<(), SpError> {
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
pub(super) fn own_application(m: &Marche, id: &str, user: &SignedIn) -> Option<Application> {
    m.applications
        .get(id)
        .filter(|a| a.applicant["sub"].as_str() == Some(&user.sub))
}

pub(super) async fn refresh(m: &Marche, id: &str, user: &SignedIn) -> Result<Application, SpError> {
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

pub(super) fn unknown_application(id: &str) -> SpError {
    problem(
        StatusCode::NOT_FOUND,
        "unknown-application",
        "Candidature inconnue",
        &format!("no application {id:?} of yours"),
    )
}
