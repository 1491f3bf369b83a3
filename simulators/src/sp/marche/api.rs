//! The marketplace's JSON API: session, tenders (published by the buyer), applications and their
//! refresh; errors as RFC 9457 problem details.

use super::*;

pub(super) fn signed_in(m: &Marche, headers: &HeaderMap) -> Result<SignedIn, SpError> {
    m.sessions.require(headers, "/connexion")
}

pub(super) async fn api_session(State(m): State<Marche>, headers: HeaderMap) -> Response {
    super::super::session_json(&m.sessions, &headers, "/connexion")
}

pub(super) async fn api_tenders(State(m): State<Marche>) -> Response {
    json_response(StatusCode::OK, &json!({"appels_d_offres": m.tenders.all()}))
}

pub(super) async fn api_tender(State(m): State<Marche>, Path(reference): Path<String>) -> Response {
    match m.tenders.get(&reference) {
        Some(t) => json_response(StatusCode::OK, &json!(t)),
        None => problem(
            StatusCode::NOT_FOUND,
            "unknown-tender",
            "Appel d'offres inconnu",
            &format!("no tender {reference:?}"),
        )
        .into(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewTender {
    pub(super) reference: String,
    pub(super) title: String,
    #[serde(default)]
    pub(super) description: String,
    /// The buyer's SIRET.
    pub(super) acheteur: String,
    pub(super) deadline: NaiveDate,
}

pub(super) fn publish(m: &Marche, t: NewTender) -> Result<Tender, SpError> {
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
        )
        .on_field("acheteur"));
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

pub(super) async fn api_publish(
    State(m): State<Marche>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, SpError> {
    signed_in(&m, &headers)?;
    let t: NewTender = super::super::json_body(&headers, &body)?;
    Ok(json_response(StatusCode::CREATED, &json!(publish(&m, t)?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewApplication {
    siret: String,
}

pub(super) async fn api_apply(
    State(m): State<Marche>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, SpError> {
    let user = signed_in(&m, &headers)?;
    let a: NewApplication = super::super::json_body(&headers, &body)?;
    let app = apply(&m, &reference, &a.siret, &user).await?;
    let created = json_response(StatusCode::CREATED, &json!(app));
    Ok(with_subject(created, app.siret))
}

pub(super) async fn api_application(
    State(m): State<Marche>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, SpError> {
    let user = signed_in(&m, &headers)?;
    let a = own_application(&m, &id, &user).ok_or_else(|| unknown_application(&id))?;
    Ok(json_response(StatusCode::OK, &json!(a)))
}

pub(super) async fn api_refresh(
    State(m): State<Marche>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, SpError> {
    let user = signed_in(&m, &headers)?;
    Ok(json_response(
        StatusCode::OK,
        &json!(refresh(&m, &id, &user).await?),
    ))
}
